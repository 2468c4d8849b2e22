import { RunInstancesCommand, type EC2Client, type HttpTokensState, type Instance } from '@aws-sdk/client-ec2';

/** Launch `n` instances with the given MetadataOptions and tags, through the public API. */
export async function launchInstances(
  ec2: EC2Client,
  n: number,
  tokens: HttpTokensState,
  hop: number,
  tags: Record<string, string>,
): Promise<Instance[]> {
  const out = await ec2.send(
    new RunInstancesCommand({
      ImageId: 'ami-0abcdef1234567890',
      MinCount: n,
      MaxCount: n,
      MetadataOptions: { HttpTokens: tokens, HttpPutResponseHopLimit: hop },
      TagSpecifications: [{ ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }],
    }),
  );
  return out.Instances!;
}
