// PLACEHOLDER (issue 13): lets `npx osls package` build the remediateInstances function declared in
// infra/remediation.yml. The queue consumer (tools/CONVERGENCE.md, "Consumer semantics") replaces this file.

/**
 * Not implemented yet: every invocation fails, so the event source mapping retries and redrives to the DLQ.
 *
 * @example
 * await handler({ Records: [] }); // throws Error('remediate-instances: not implemented (placeholder)')
 */
export async function handler(_event: unknown): Promise<never> {
  throw new Error('remediate-instances: not implemented (placeholder)');
}
