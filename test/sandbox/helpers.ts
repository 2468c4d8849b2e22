// Real SDK clients pointed at a fresh sandbox.
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { IAMClient } from '@aws-sdk/client-iam';
import { SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../sandbox/server.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export interface Harness {
  sb: Sandbox;
  cfg: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string }; maxAttempts: number };
  ec2: EC2Client;
  eks: EKSClient;
  sns: SNSClient;
  sts: STSClient;
  iam: IAMClient;
  /** Clients for another Region. */
  inRegion(region: string): { ec2: EC2Client; eks: EKSClient };
}

export async function harness(opts: SandboxOptions = {}): Promise<Harness> {
  const sb = await startSandbox({ quiet: true, throttle: { enabled: false }, ...opts });
  const mk = (region: string) => ({
    endpoint: sb.url,
    region,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
    maxAttempts: 1,
  });
  const cfg = mk('eu-west-1');
  return {
    sb,
    cfg,
    ec2: new EC2Client(cfg),
    eks: new EKSClient(cfg),
    sns: new SNSClient(cfg),
    sts: new STSClient(cfg),
    iam: new IAMClient(cfg),
    inRegion: (r) => ({ ec2: new EC2Client(mk(r)), eks: new EKSClient(mk(r)) }),
  };
}

/** The SDK error a promise rejects with. */
export async function errorOf(p: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the call to fail');
}
