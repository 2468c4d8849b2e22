// Lambda: invoked by hand ({mode, regions?, scope?, clusters?}) -> per-Region backfill, fanned out by self-invocation.
import { loadConfig } from '../lib/config.js';
import { makeBackfillHandler } from '../lib/handlers/backfill.js';
import { lambda } from '../lib/handlers/lambda.js';

// Cold start: an invalid configuration fails here, naming the variable.
export const handler = lambda(makeBackfillHandler(loadConfig()));
