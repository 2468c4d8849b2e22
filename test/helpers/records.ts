// The instance an audit record or queue item is about, in the tests' one account and Region.
import type { AuditResource } from '../../lib/domain/audit.js';

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';

/** An instance resource in eu-west-1 / 111122223333; `extra` adds owner, cluster, node group, name. */
export function instanceResource(id: string, extra: Omit<Partial<AuditResource>, 'type' | 'id'> & { owner: string }): AuditResource {
  return { type: 'instance', id, arn: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${id}`, region: REGION, account: ACCOUNT, ...extra };
}
