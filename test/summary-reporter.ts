// Ends every run with the plain "N passed, N failed" line that CI logs are read for. A test file that fails
// outside its tests (a failed beforeAll, an import error) counts as one failure, and so does an unhandled error,
// so the line never says 0 failed for a red run. With IMDS_GUARD_COUNTS_FILE set, the counts are also written
// there as JSON, for scripts/test-runs.mjs to add two runs (sandbox and moto) into one closing line.
import { writeFileSync } from 'node:fs';
import type { Reporter, SerializedError, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError> = []): void {
    let passed = 0;
    let failed = unhandledErrors.length;
    let skipped = 0;
    for (const m of modules) {
      let failedHere = 0;
      for (const t of m.children.allTests()) {
        const s = t.result().state;
        if (s === 'passed') passed++;
        else if (s === 'failed') failedHere++;
        else skipped++;
      }
      failed += failedHere || (m.errors().length > 0 || m.state() === 'failed' ? 1 : 0);
    }
    const file = process.env.IMDS_GUARD_COUNTS_FILE;
    if (file) writeFileSync(file, JSON.stringify({ passed, failed, skipped }));
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
