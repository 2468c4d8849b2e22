// EC2 effects for the account-level instance metadata defaults of one Region.
import { GetInstanceMetadataDefaultsCommand, ModifyInstanceMetadataDefaultsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { toAccountDefaults, type AccountDefaults, type DefaultsChange } from './policy.js';

export async function getMetadataDefaults(ec2: EC2Client): Promise<AccountDefaults> {
  const out = await ec2.send(new GetInstanceMetadataDefaultsCommand({}));
  return toAccountDefaults(out.AccountLevel as Record<string, unknown> | undefined);
}

/** One call; HttpTokens and the hop limit are both sent, as for instances. */
export async function putMetadataDefaults(ec2: EC2Client, c: DefaultsChange): Promise<{ requestId?: string }> {
  const out = await ec2.send(
    new ModifyInstanceMetadataDefaultsCommand({
      HttpTokens: c.httpTokens,
      HttpPutResponseHopLimit: c.hopLimit,
      ...(c.httpTokensEnforced ? { HttpTokensEnforced: c.httpTokensEnforced } : {}),
    }),
  );
  if (out.Return === false) throw Object.assign(new Error('ModifyInstanceMetadataDefaults returned false'), { name: 'NotApplied' });
  return out.$metadata?.requestId ? { requestId: out.$metadata.requestId } : {};
}
