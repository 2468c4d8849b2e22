import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');
const LOCK = join(ROOT, '.serverless-lock');

const cached = new Map<string, any>();

/**
 * Run `npx osls package` (offline) once per test process and params, and return the CloudFormation template.
 * Without params it writes `.serverless/` as `npm run package` does; with params, a temporary directory.
 * Test files run in parallel workers and osls shares `.esbuild/`, so runs are serialized with a lock.
 */
export function packagedTemplate(params: Record<string, string> = {}): any {
  const key = JSON.stringify(params);
  if (cached.has(key)) return cached.get(key);
  const dir = Object.keys(params).length ? mkdtempSync(join(tmpdir(), 'imds-guard-package-')) : join(ROOT, '.serverless');
  const args = [
    'package',
    ...Object.entries(params).map(([k, v]) => `--param=${k}=${v}`),
    ...(dir.startsWith(ROOT) ? [] : ['--package', dir]),
  ];
  const out = join(dir, 'cloudformation-template-update-stack.json');
  withLock(() => {
    const started = Date.now();
    execFileSync(join(ROOT, 'node_modules/.bin/osls'), args, {
      cwd: ROOT,
      stdio: 'pipe',
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
    });
    if (!existsSync(out) || statSync(out).mtimeMs < started - 1000) throw new Error('osls package did not write a fresh template');
  });
  cached.set(key, JSON.parse(readFileSync(out, 'utf8')));
  if (!dir.startsWith(ROOT)) rmSync(dir, { recursive: true, force: true });
  return cached.get(key);
}

function withLock(fn: () => void): void {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // A lock older than any package run was left by a crashed process.
      if (existsSync(LOCK) && Date.now() - statSync(LOCK).mtimeMs > 60_000) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${LOCK}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

export function resourcesOfType(t: any, type: string): [string, any][] {
  return Object.entries(t.Resources as Record<string, any>).filter(([, r]) => r.Type === type);
}

export function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Every statement of every IAM role and policy in the template. */
export function iamStatements(t: any): { resource: string; statement: any }[] {
  const out: { resource: string; statement: any }[] = [];
  for (const [id, r] of Object.entries(t.Resources as Record<string, any>)) {
    if (r.Type === 'AWS::IAM::Role')
      for (const p of r.Properties.Policies ?? [])
        for (const s of asArray(p.PolicyDocument.Statement)) out.push({ resource: id, statement: s });
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
      for (const s of asArray(r.Properties.PolicyDocument.Statement)) out.push({ resource: id, statement: s });
  }
  return out;
}

/** Statements of resource policies: KMS key policies, SQS queue and SNS topic policies. */
export function resourcePolicyStatements(t: any): { resource: string; statement: any }[] {
  const out: { resource: string; statement: any }[] = [];
  for (const [id, r] of Object.entries(t.Resources as Record<string, any>)) {
    const doc =
      r.Type === 'AWS::KMS::Key'
        ? r.Properties.KeyPolicy
        : ['AWS::SQS::QueuePolicy', 'AWS::SNS::TopicPolicy'].includes(r.Type)
          ? r.Properties.PolicyDocument
          : undefined;
    for (const s of asArray(doc?.Statement)) out.push({ resource: id, statement: s });
  }
  return out;
}

/**
 * The template as CloudFormation would deploy it: Conditions evaluated (osls bakes params in as literals or as
 * Parameters that default to them),
 * `Fn::If` replaced by the chosen branch, `AWS::NoValue` dropped.
 */
export function effectiveTemplate(t: any): any {
  const conditions = new Map<string, boolean>();
  // A Ref to a Parameter is its Default: the packaged param value (osls deploys without stack parameters).
  const param = (v: any): any => (v?.Ref && t.Parameters?.[v.Ref] ? t.Parameters[v.Ref].Default : v);
  const cond = (c: any): boolean => {
    if (typeof c === 'boolean') return c;
    if (c.Condition) return named(c.Condition);
    if (c['Fn::Equals']) return JSON.stringify(param(c['Fn::Equals'][0])) === JSON.stringify(param(c['Fn::Equals'][1]));
    if (c['Fn::Not']) return !cond(c['Fn::Not'][0]);
    if (c['Fn::And']) return c['Fn::And'].every(cond);
    if (c['Fn::Or']) return c['Fn::Or'].some(cond);
    throw new Error(`cannot evaluate condition ${JSON.stringify(c)}`);
  };
  const named = (n: string): boolean => {
    if (!conditions.has(n)) conditions.set(n, cond(t.Conditions[n]));
    return conditions.get(n)!;
  };
  const NO_VALUE = Symbol('NoValue');
  const walk = (v: any): any => {
    if (Array.isArray(v)) return v.map(walk).filter((x) => x !== NO_VALUE);
    if (!v || typeof v !== 'object') return v;
    if (v.Ref === 'AWS::NoValue') return NO_VALUE;
    if (v['Fn::If']) return walk(named(v['Fn::If'][0]) ? v['Fn::If'][1] : v['Fn::If'][2]);
    return Object.fromEntries(
      Object.entries(v)
        .map(([k, x]) => [k, walk(x)])
        .filter(([, x]) => x !== NO_VALUE),
    );
  };
  const resources = Object.fromEntries(
    Object.entries(t.Resources as Record<string, any>).filter(([, r]) => !r.Condition || named(r.Condition)),
  );
  return walk({ ...t, Resources: resources });
}
