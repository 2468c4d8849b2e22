// The SDK's own retry strategy, exercised through a real EC2Client with an in-memory HTTP handler
// (aws-sdk-client-mock would bypass the middleware stack, and with it the retries).
import { ModifyInstanceMetadataOptionsCommand } from '@aws-sdk/client-ec2';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ec2Client, resetClients } from '../../lib/shell/clients.js';

const ok = `<ModifyInstanceMetadataOptionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-ok</requestId><instanceId>i-00000000000000001</instanceId><instanceMetadataOptions><state>pending</state><httpTokens>required</httpTokens><httpPutResponseHopLimit>1</httpPutResponseHopLimit></instanceMetadataOptions></ModifyInstanceMetadataOptionsResponse>`;
const err = (code: string) =>
  `<Response><Errors><Error><Code>${code}</Code><Message>${code} happened</Message></Error></Errors><RequestID>r-err</RequestID></Response>`;

function scripted(responses: [number, string][]) {
  const seen: string[] = [];
  return {
    seen,
    handler: {
      async handle(req: { body?: string }) {
        seen.push(String(req.body));
        const [statusCode, body] = responses.shift() ?? [200, ok];
        return { response: { statusCode, headers: { 'content-type': 'text/xml' }, body: Readable.from([Buffer.from(body)]) } };
      },
    },
  };
}

function client(responses: [number, string][], maxAttempts = 4) {
  resetClients();
  const s = scripted(responses);
  const c = ec2Client('eu-west-1', { maxAttempts });
  (c.config as { requestHandler: unknown }).requestHandler = s.handler;
  return { c, seen: s.seen };
}

afterEach(() => resetClients());
const cmd = () =>
  new ModifyInstanceMetadataOptionsCommand({ InstanceId: 'i-00000000000000001', HttpTokens: 'required', HttpPutResponseHopLimit: 1 });

describe('EC2 client retry strategy', () => {
  it('retries RequestLimitExceeded and succeeds', async () => {
    const { c, seen } = client([
      [503, err('RequestLimitExceeded')],
      [503, err('RequestLimitExceeded')],
    ]);
    const out = await c.send(cmd());
    expect(out.InstanceMetadataOptions?.HttpTokens).toBe('required');
    expect(seen).toHaveLength(3);
  });

  it('retries IncorrectInstanceState (instance still pending)', async () => {
    const { c, seen } = client([[400, err('IncorrectInstanceState')]]);
    await c.send(cmd());
    expect(seen).toHaveLength(2);
  });

  it('does not retry InvalidInstanceID.NotFound: it is final', async () => {
    const { c, seen } = client([[400, err('InvalidInstanceID.NotFound')]]);
    await expect(c.send(cmd())).rejects.toMatchObject({ name: 'InvalidInstanceID.NotFound' });
    expect(seen).toHaveLength(1);
  });

  it('gives up after maxAttempts', async () => {
    const { c, seen } = client(
      Array.from({ length: 5 }, () => [503, err('RequestLimitExceeded')] as [number, string]),
      2,
    );
    await expect(c.send(cmd())).rejects.toMatchObject({ name: 'RequestLimitExceeded' });
    expect(seen).toHaveLength(2);
  });

  it('sends HttpTokens=required on the wire, even for a hop-limit fix', async () => {
    const { c, seen } = client([]);
    await c.send(cmd());
    expect(seen[0]).toContain('HttpTokens=required');
    expect(seen[0]).toContain('HttpPutResponseHopLimit=1');
  });
});
