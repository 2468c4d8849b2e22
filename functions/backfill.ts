// Lambda: invoked by hand ({mode, regions?, scope?, clusters?}) -> per-Region backfill, fanned out by self-invocation.
import { backfillFunction } from '../lib/lambda/backfill.js';

export const handler = backfillFunction();
