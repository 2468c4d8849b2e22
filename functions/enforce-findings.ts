// Lambda: EventBridge (Security Hub findings of EC2.8 / EC2.170, ASFF or OCSF) -> enforce -> update the finding.
import { findingsFunction } from '../lib/lambda/findings-in.js';

export const handler = findingsFunction();
