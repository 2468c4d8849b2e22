// Lambda: invoked by hand ({mode, regions?, scope?, clusters?}) -> per-Region backfill, fanned out by self-invocation.
import { loadConfig } from '../lib/shell/config.js';
import { makeBackfillHandler } from '../lib/lambda/backfill.js';
import { lambda } from '../lib/lambda/wrap.js';

// Cold start: an invalid configuration fails here, naming the variable.
export const handler = lambda(makeBackfillHandler(loadConfig()));
