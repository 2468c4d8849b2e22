// Lambda: the remediation queue (SQS event source, partial batch responses) -> one ModifyInstanceMetadataOptions per node.
import { makeRemediationHandler } from '../lib/lambda/remediation.js';
import { lambda } from '../lib/lambda/wrap.js';
import { loadConfig } from '../lib/shell/config.js';

// Cold start: an invalid configuration fails here, naming the variable.
export const handler = lambda(makeRemediationHandler(loadConfig()));
