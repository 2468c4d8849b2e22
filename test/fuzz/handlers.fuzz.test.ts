// Property-based fuzzing: random and mutated CloudTrail events against every event handler.
// Properties: no handler throws; an event the parser rejects or ignores makes zero AWS calls;
// every rejection leaves one structured log line.
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { IAMClient } from '@aws-sdk/client-iam';
import { SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { allEventNames, clone, loadEvent } from '../helpers/events.js';
import { TOPIC, lambdaContext, loadFunction } from '../helpers/lambda.js';

const mocks = [mockClient(EC2Client), mockClient(EKSClient), mockClient(IAMClient), mockClient(SNSClient)];
const samples = allEventNames().map((n) => loadEvent(n));
const HANDLERS = ['enforce-instances', 'enforce-launch-templates', 'enforce-nodegroups'] as const;
const RUNS = Number(process.env.FUZZ_RUNS ?? 250);
let tried = 0;
const byStatus: Record<string, number> = {};

type Path = (string | number)[];
function paths(v: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (v && typeof v === 'object') for (const [k, c] of Object.entries(v)) paths(c, [...prefix, Array.isArray(v) ? Number(k) : k], out);
  return out;
}

function mutate(event: unknown, pathIndex: number, op: 'delete' | 'replace' | 'null', value: unknown): unknown {
  const e = clone(event) as Record<string, unknown>;
  const all = paths(e).filter((p) => p.length > 0);
  const p = all[pathIndex % all.length]!;
  let parent: any = e;
  for (const k of p.slice(0, -1)) parent = parent[k];
  const last = p[p.length - 1]!;
  if (op === 'delete') delete parent[last];
  else parent[last] = op === 'null' ? null : value;
  return e;
}

const eventArb = fc.oneof(
  // Mutations of realistic events: deep enough to reach every parser branch.
  fc
    .tuple(
      fc.constantFrom(...samples),
      fc.array(
        fc.tuple(fc.nat(), fc.constantFrom('delete', 'replace', 'null') as fc.Arbitrary<'delete' | 'replace' | 'null'>, fc.jsonValue()),
        { minLength: 1, maxLength: 4 },
      ),
    )
    .map(([e, ms]) => ms.reduce<unknown>((acc, [i, op, v]) => mutate(acc, i, op, v), e)),
  // Anything at all.
  fc.anything(),
  fc.jsonValue(),
);

let logged: Record<string, any>[] = [];
beforeEach(() => {
  for (const m of mocks) m.reset();
  // Every call "succeeds" with an empty answer: valid events run their course without a network.
  for (const m of mocks as ReturnType<typeof mockClient>[]) m.onAnyCommand().resolves({ $metadata: {} } as never);
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});
afterAll(() => {
  // The count is part of the report, as the issue asks.
  process.stderr.write(`fuzz: ${tried} events tried across ${HANDLERS.length} handlers: ${JSON.stringify(byStatus)}\n`);
});

describe.each(HANDLERS)('%s under fuzzing', (name) => {
  it('never throws; rejected and ignored events make no AWS call and leave a structured record', async () => {
    const mod = await loadFunction<{ handler: (e: unknown, c: unknown) => Promise<any> }>(`../../functions/${name}.js`, {
      TOPIC_ARN: TOPIC,
      SELF_ROLE_NAMES: 'imds-guard-self',
      MAX_ATTEMPTS: '1',
    });
    // The same logger instance the handler uses: capture its structured attributes.
    const { logger } = await import('../../lib/shell/observability.js');
    for (const level of ['info', 'error', 'warn'] as const) {
      vi.spyOn(logger, level).mockImplementation(
        ((_msg: string, ...attrs: Record<string, any>[]) => void logged.push(Object.assign({}, ...attrs))) as never,
      );
    }
    await fc.assert(
      fc.asyncProperty(eventArb, async (event) => {
        tried++;
        for (const m of mocks) m.resetHistory();
        logged = [];
        const result = await mod.handler(event, lambdaContext(name));
        expect(['invalid', 'ignored', 'done']).toContain(result.status);
        byStatus[result.status] = (byStatus[result.status] ?? 0) + 1;
        if (result.status !== 'done') {
          expect(mocks.reduce((n, m) => n + m.calls().length, 0)).toBe(0);
          const lines = logged.filter((l) => l.rejection || l.ignored);
          expect(lines).toHaveLength(1);
          expect(lines[0]!.rejection?.reason ?? lines[0]!.ignored?.reason).toBeTruthy();
        }
      }),
      { numRuns: RUNS, seed: Number(process.env.FUZZ_SEED ?? 20261125) },
    );
  }, 120_000);
});
