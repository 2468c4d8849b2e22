// Audit records of every resource type and outcome, for the ASFF and OCSF mapping tests.
import { arn, buildRecord, OUTCOME_ORDER, type AuditRecord, type Outcome } from '../../../lib/domain/audit.js';

export const ACCOUNT = '111122223333';
export const REGION = 'eu-west-1';
export const TIME = '2026-11-20T10:15:31.000Z';

const trigger = {
  source: 'cloudtrail' as const,
  eventName: 'RunInstances',
  eventId: 'ev-1',
  eventTime: '2026-11-20T10:15:30Z',
  actor: 'arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice',
  region: REGION,
  account: ACCOUNT,
};

/** The kinds shipped today (the record's type is open: see the unknown-kind test). */
export type ResourceType = 'instance' | 'launch-template' | 'nodegroup' | 'account-defaults';

const IDS: Record<ResourceType, string> = {
  instance: 'i-0abc',
  'launch-template': 'lt-0123',
  nodegroup: 'workers',
  'account-defaults': REGION,
};

export const TYPES: ResourceType[] = ['instance', 'launch-template', 'nodegroup', 'account-defaults'];
export const OUTCOMES: readonly Outcome[] = OUTCOME_ORDER;

const VIOLATIONS = ['HttpTokens is optional, expected required', 'HttpPutResponseHopLimit is 2, expected <= 1'];

export function record(
  type: ResourceType,
  outcome: Outcome,
  extra: Partial<Pick<AuditRecord, 'details' | 'desired' | 'mode' | 'reason' | 'after' | 'before'>> & { region?: string } = {},
): AuditRecord {
  const { region = REGION, ...rest } = extra;
  const id = type === 'account-defaults' ? region : IDS[type];
  const cluster = type === 'nodegroup' || type === 'instance' ? 'payments' : undefined;
  const fixed = outcome === 'remediated' || outcome === 'would-remediate';
  return buildRecord({
    trigger: { ...trigger, region },
    mode: outcome === 'would-remediate' ? 'dry-run' : 'enforce',
    resource: {
      type,
      id,
      arn: arnOf(type, region, id, cluster),
      region,
      account: ACCOUNT,
      ...(cluster ? { cluster } : {}),
      owner: 'team-payments',
      ...(type === 'launch-template' ? { name: 'payments-nodes' } : {}),
    },
    outcome,
    time: TIME,
    before:
      outcome === 'compliant'
        ? { httpTokens: 'required', hopLimit: 1, httpEndpoint: 'enabled' }
        : { httpTokens: 'optional', hopLimit: 2, httpEndpoint: 'enabled' },
    ...(fixed
      ? { after: { httpTokens: 'required', hopLimit: 1, httpEndpoint: 'enabled' }, desired: { httpTokens: 'required', hopLimit: 1 } }
      : {}),
    violations: outcome === 'compliant' ? [] : VIOLATIONS,
    ...(outcome === 'exempt' ? { reason: 'tag imds-guard:exempt=true' } : {}),
    ...rest,
  });
}

function arnOf(type: ResourceType, region: string, id: string, cluster?: string): string {
  if (type === 'nodegroup') return arn(region, 'eks', ACCOUNT, `nodegroup/${cluster}/${id}`);
  return arn(region, 'ec2', ACCOUNT, type === 'account-defaults' ? 'instance-metadata-defaults' : `${type}/${id}`);
}
