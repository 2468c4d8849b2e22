// Lambda: the remediation queue (SQS event source, partial batch responses) -> one ModifyInstanceMetadataOptions per node.
import { remediationFunction } from '../lib/lambda/remediation.js';

export const handler = remediationFunction();
