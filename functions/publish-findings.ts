// Lambda: SNS audit topic -> the account's own Security Hub findings (ASFF), when the securityHub param is "true".
import { publishFindingsFunction } from '../lib/lambda/publish-findings.js';

export const handler = publishFindingsFunction();
