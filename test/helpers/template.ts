import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');
const OUT = join(ROOT, '.serverless/cloudformation-template-update-stack.json');

let cached: any;

/** Run `npx osls package` once per test process (offline) and return the CloudFormation template. */
export function packagedTemplate(): any {
  if (cached) return cached;
  const started = Date.now();
  execFileSync(join(ROOT, 'node_modules/.bin/osls'), ['package'], { cwd: ROOT, stdio: 'pipe', env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' } });
  if (!existsSync(OUT) || statSync(OUT).mtimeMs < started - 1000) throw new Error('osls package did not write a fresh template');
  cached = JSON.parse(readFileSync(OUT, 'utf8'));
  return cached;
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
    if (r.Type === 'AWS::IAM::Role') for (const p of r.Properties.Policies ?? []) for (const s of asArray(p.PolicyDocument.Statement)) out.push({ resource: id, statement: s });
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') for (const s of asArray(r.Properties.PolicyDocument.Statement)) out.push({ resource: id, statement: s });
  }
  return out;
}
