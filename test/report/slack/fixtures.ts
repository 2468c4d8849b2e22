// Audit records and a real loopback webhook server for the Slack tests.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { vi } from 'vitest';
import { buildRecord, type AuditRecord, type Outcome } from '../../../lib/domain/audit.js';
import type { Trigger } from '../../../lib/domain/cloudtrail.js';
import { instanceResource } from '../../helpers/records.js';

export const trigger: Trigger = {
  source: 'cloudtrail',
  eventName: 'RunInstances',
  eventId: 'evt-0001',
  eventTime: '2025-03-04T05:06:07Z',
  actor: 'arn:aws:sts::111122223333:assumed-role/eks-nodegroup/i-launch',
  sourceIp: 'eks.amazonaws.com',
  region: 'eu-west-1',
  account: '111122223333',
};

export function record(n: number, outcome: Outcome = 'remediated', over: Partial<AuditRecord> & { owner?: string } = {}): AuditRecord {
  const id = `i-${n.toString(16).padStart(17, '0')}`;
  const { owner = 'payments', ...rest } = over;
  return buildRecord({
    mode: outcome === 'would-remediate' ? 'dry-run' : 'enforce',
    trigger,
    resource: instanceResource(id, { cluster: 'payments-prod', nodegroup: 'ng-general', owner }),
    before: { httpTokens: 'optional', hopLimit: 2, httpEndpoint: 'enabled' },
    ...(outcome === 'remediated' ? { after: { httpTokens: 'required', hopLimit: 1, httpEndpoint: 'enabled' } } : {}),
    ...(outcome === 'would-remediate' ? { desired: { httpTokens: 'required', hopLimit: 1, httpEndpoint: 'enabled' } } : {}),
    ...(outcome === 'failed'
      ? {
          desired: { httpTokens: 'required', hopLimit: 1, httpEndpoint: 'enabled' },
          error: { name: 'UnauthorizedOperation', message: 'You are not authorized to perform this operation.' },
          requestId: 'rid-1',
        }
      : {}),
    violations: ['HttpTokens is optional, expected required', 'HttpPutResponseHopLimit is 2, expected <= 1'],
    outcome,
    ...rest,
  });
}

export interface Hit {
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
}
export type Reply = { status: number; headers?: Record<string, string>; body?: string };

/** node:http on 127.0.0.1, port 0. `reply` decides each answer (default 200 "ok"). */
export async function webhookServer(reply: (hit: Hit, n: number) => Reply = () => ({ status: 200, body: 'ok' })) {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const hit = { path: req.url ?? '', headers: req.headers, body: text ? JSON.parse(text) : undefined };
      hits.push(hit);
      const r = reply(hit, hits.length);
      res.writeHead(r.status, r.headers).end(r.body ?? '');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    hits,
    port,
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** Capture everything written to stdout/stderr (where the Powertools logger writes). */
export function captureOutput() {
  const lines: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    });
  }
  return lines;
}
