export { handler } from '../lib/lambda/remediation.js'; // Lambda: SQS RemediationQueue -> one Modify per instance.
