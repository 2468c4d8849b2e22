// The deployed artifact, not the sources: a function bundle built as `npm run build` and osls build it,
// run cold in its own Node process against the sandbox. Function bundles carry the Lambda credential
// chain (lib/shell/lambda-credentials.ts) instead of the SDK's default one, so this is where that swap
// is proven: env keys work, the container endpoint works, and with neither the error says why.
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ct from '../../sandbox/cloudtrail.js';
import { functionOptions } from '../../scripts/esbuild-options.mjs';
import { describe as describeInstances, options, startTarget, type Target } from '../helpers/sandbox.js';
import { launchInstances } from '../helpers/launch.js';

const ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'imds-guard-bundle-'));
const bundle = join(dir, 'enforce-instances.mjs');
let t: Target;

beforeAll(async () => {
  await build({ ...functionOptions, entryPoints: [join(ROOT, 'functions/enforce-instances.ts')], outfile: bundle, logLevel: 'silent' });
  t = await startTarget();
}, 60_000);
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

// What the Lambda runtime does: import once, then call the handler with an event and a context.
const RUNNER = `
const { handler } = await import(process.env.BUNDLE);
const event = JSON.parse(process.env.EVENT);
const context = { functionName: 'enforce-instances', awsRequestId: 'req-bundle', invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:enforce-instances', memoryLimitInMB: '256', getRemainingTimeInMillis: () => 60000 };
let result;
try { result = await handler(event, context); } catch (err) { result = { thrown: String(err?.message ?? err) }; }
process.stdout.write('\\nRESULT ' + JSON.stringify(result) + '\\n');
`;

interface Run {
  result: any;
  logs: string;
}

/** A clean environment: only what Lambda would set, so nothing leaks in from the test runner. */
function runBundle(event: unknown, credentials: Record<string, string>): Promise<Run> {
  const env = {
    PATH: process.env.PATH ?? '',
    BUNDLE: bundle,
    EVENT: JSON.stringify(event),
    AWS_REGION: t.region,
    AWS_ENDPOINT_URL: t.endpoint,
    AWS_SDK_JS_SUPPRESS_WARNINGS: '1',
    MODE: 'enforce',
    IDENTITY_GATE: 'off',
    TOPIC_ARN: t.topicArn,
    SELF_ROLE_NAMES: 'imds-guard-bundle',
    MAX_ATTEMPTS: '2',
    ...credentials,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', RUNNER], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', () => {
      // Powertools logs to stdout too, as in Lambda; the runner marks its own line.
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (line) resolve({ result: JSON.parse(line.slice(7)), logs: out + err });
      else reject(new Error(`bundle printed no result:\n${out}\n${err}`));
    });
  });
}

async function nonCompliantNode() {
  const [i] = await launchInstances(t.ec2, 1, 'optional', 2, { 'eks:cluster-name': 'payments', 'eks:nodegroup-name': 'ng' });
  return { id: i!.InstanceId!, event: ct.runInstances([i!], 'autoscaling', { region: t.region, account: '111122223333' }) };
}

/** A container credentials endpoint, as a runtime without env keys would serve it. */
async function credentialsEndpoint(token: string): Promise<{ url: string; requests: string[]; server: Server }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(String(req.headers.authorization));
    if (req.headers.authorization !== token) return void res.writeHead(403).end();
    const expiration = new Date(Date.now() + 3_600_000).toISOString();
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ AccessKeyId: 'ASIACONTAINER', SecretAccessKey: 'secret', Token: 'session', Expiration: expiration }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/creds`, requests, server };
}

describe('a built function bundle, run cold in its own process', () => {
  it('uses the execution role keys from the environment, as Lambda sets them', async () => {
    const { id, event } = await nonCompliantNode();
    const { result } = await runBundle(event, {
      AWS_ACCESS_KEY_ID: 'ASIAENV',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'session',
    });
    expect(result).toMatchObject({ status: 'done', counts: { remediated: 1 } });
    expect(options((await describeInstances(t, [id])).get(id))).toEqual(['required', 1]);
  });

  it('falls back to the container credentials endpoint when no keys are in the environment', async () => {
    const { id, event } = await nonCompliantNode();
    const endpoint = await credentialsEndpoint('Bearer abc');
    try {
      const { result } = await runBundle(event, {
        AWS_CONTAINER_CREDENTIALS_FULL_URI: endpoint.url,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: 'Bearer abc',
      });
      expect(result).toMatchObject({ status: 'done', counts: { remediated: 1 } });
      expect(endpoint.requests.length).toBeGreaterThan(0);
      expect(new Set(endpoint.requests)).toEqual(new Set(['Bearer abc']));
      expect(options((await describeInstances(t, [id])).get(id))).toEqual(['required', 1]);
    } finally {
      endpoint.server.close();
    }
  });

  it('with no credentials at all, changes nothing and says which variables it reads', async () => {
    const { id, event } = await nonCompliantNode();
    const { result, logs } = await runBundle(event, {});
    expect(JSON.stringify(result) + logs).toContain('imds-guard: no credentials');
    expect(options((await describeInstances(t, [id])).get(id))).toEqual(['optional', 2]);
  });
});
