// cfn-lint on the packaged template: 0 errors and 0 warnings, for the default params and the variants that switch
// conditions on. Skipped (one line) where cfn-lint is not installed.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { effectiveTemplate, packagedTemplate, resourcesOfType } from '../helpers/template.js';

function cfnLintVersion(): string | undefined {
  try {
    return execFileSync('cfn-lint', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}
const version = cfnLintVersion();
if (!version) console.warn('cfn-lint not found on PATH: skipping the cfn-lint checks of the packaged template');

const dir = mkdtempSync(join(tmpdir(), 'imds-guard-cfn-lint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** cfn-lint's findings (errors and warnings; informational ones too), as `RULE path: message`. */
function lint(name: string, template: unknown): string[] {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(template, null, 2));
  return lintFile(file);
}

function lintFile(file: string): string[] {
  const r = spawnSync('cfn-lint', ['--format', 'json', '--', file], { encoding: 'utf8' });
  if (r.error) throw r.error;
  const out = JSON.parse(r.stdout || '[]') as { Rule: { Id: string }; Message: string; Location: { Path: unknown[] } }[];
  return out.map((m) => `${m.Rule.Id} ${m.Location.Path.join('/')}: ${m.Message}`);
}

describe.skipIf(!version)(`cfn-lint (${version ?? 'not installed'}) on the packaged template`, () => {
  const variants: Record<string, Record<string, string>> = {
    default: {},
    'scope all, rollout, alarms, subscribers': {
      scope: 'all',
      rollout: 'true',
      alarmEmail: 'oncall@example.com',
      paymentsEmail: 'payments@example.com',
      onCallProtocol: 'https',
      onCallEndpoint: 'https://pager.example.com/hook',
    },
    'sweep off, dry run': { sweepSchedule: 'off', mode: 'dry-run', selfManagedClusters: 'payments,legacy-1' },
    'hub deployment (issue 14)': { deployment: 'hub', organizationId: 'o-exampleorgid' },
    'security hub on (issue 15: publish-findings subscribed)': { securityHub: 'true' },
  };
  for (const [name, params] of Object.entries(variants)) {
    it(`${name}: 0 errors, 0 warnings`, { timeout: 180_000 }, () => {
      expect(lint(name.replace(/\W+/g, '-'), packagedTemplate(params))).toEqual([]);
    });
  }

  it('infra/member.yml (the member StackSet template): 0 errors, 0 warnings', () => {
    expect(lintFile(join(import.meta.dirname, '../../infra/member.yml'))).toEqual([]);
  });
});

describe('the evidence outlives the stack', () => {
  let t: any;
  beforeAll(() => {
    t = packagedTemplate();
  }, 180_000);

  const retained = (id: string) => [t.Resources[id]?.DeletionPolicy, t.Resources[id]?.UpdateReplacePolicy];

  it('the audit key and the idempotency table are retained on delete and on replacement', () => {
    expect(retained('AuditKey')).toEqual(['Retain', 'Retain']);
    expect(retained('IdempotencyTable')).toEqual(['Retain', 'Retain']);
  });

  it("every function's log group is retained", () => {
    const groups = resourcesOfType(t, 'AWS::Logs::LogGroup').map(([id]) => id);
    const functions = resourcesOfType(t, 'AWS::Lambda::Function');
    expect(groups.length).toBe(functions.length);
    for (const id of groups) expect(retained(id), id).toEqual(['Retain', 'Retain']);
  });

  it('functions still wait for their log group; the role comes through Fn::GetAtt alone', () => {
    for (const [id, fn] of resourcesOfType(effectiveTemplate(t), 'AWS::Lambda::Function')) {
      expect(fn.DependsOn, id).toEqual([id.replace(/LambdaFunction$/, 'LogGroup')]);
      expect(t.Resources[fn.Properties.Role['Fn::GetAtt'][0]].Type, id).toBe('AWS::IAM::Role');
    }
  });
});
