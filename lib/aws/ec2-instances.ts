// EC2 effects for instances: describe in batches, modify MetadataOptions.
import { DescribeInstancesCommand, ModifyInstanceMetadataOptionsCommand, type EC2Client, type Instance } from '@aws-sdk/client-ec2';
import { toMetadataOptions, type MetadataOptions, type Remediation } from '../core/metadata-options.js';
import { toTags, type Tags } from '../core/tags.js';

export interface DescribedInstance {
  instanceId: string;
  state: string;
  metadataOptions: MetadataOptions;
  tags: Tags;
  launchTemplateId?: string;
}

export const DESCRIBE_BATCH = 1000;

export function fromSdkInstance(i: Instance): DescribedInstance {
  const tags = toTags(i.Tags);
  return {
    instanceId: i.InstanceId!,
    state: i.State?.Name ?? 'unknown',
    metadataOptions: toMetadataOptions(i.MetadataOptions as Record<string, unknown>) ?? {},
    tags,
    ...(tags['aws:ec2launchtemplate:id'] ? { launchTemplateId: tags['aws:ec2launchtemplate:id'] } : {}),
  };
}

const NOT_FOUND_IDS = /i-[0-9a-f]{8,17}/g;

/**
 * Describe instances by ID, at most 1000 per call (the API's limit). A terminated ID fails the whole
 * call with InvalidInstanceID.NotFound, so the IDs it names are dropped and the batch is retried.
 */
export async function describeInstances(ec2: EC2Client, ids: string[]): Promise<Map<string, DescribedInstance>> {
  const found = new Map<string, DescribedInstance>();
  for (let i = 0; i < ids.length; i += DESCRIBE_BATCH) {
    let batch = ids.slice(i, i + DESCRIBE_BATCH);
    while (batch.length > 0) {
      try {
        let token: string | undefined;
        do {
          const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: batch, NextToken: token }));
          for (const r of out.Reservations ?? []) for (const inst of r.Instances ?? []) found.set(inst.InstanceId!, fromSdkInstance(inst));
          token = out.NextToken;
        } while (token);
        break;
      } catch (err) {
        const e = err as { name?: string; message?: string };
        if (e.name !== 'InvalidInstanceID.NotFound') throw err;
        const missing = new Set(e.message?.match(NOT_FOUND_IDS) ?? []);
        const next = batch.filter((id) => !missing.has(id));
        if (missing.size === 0 || next.length === batch.length) break; // cannot tell which: treat the batch as gone
        batch = next;
      }
    }
  }
  return found;
}

export interface ModifyResult {
  requestId?: string;
  state?: string;
  applied: MetadataOptions;
}

/** One call, both policy fields. HttpTokens is always sent: omitted means optional (REFERENCE §1). */
export async function modifyMetadataOptions(ec2: EC2Client, instanceId: string, r: Remediation): Promise<ModifyResult> {
  const out = await ec2.send(
    new ModifyInstanceMetadataOptionsCommand({
      InstanceId: instanceId,
      HttpTokens: r.httpTokens,
      ...(r.hopLimit !== undefined ? { HttpPutResponseHopLimit: r.hopLimit } : {}),
    }),
  );
  const opts = out.InstanceMetadataOptions as Record<string, unknown> | undefined;
  return {
    ...(out.$metadata?.requestId ? { requestId: out.$metadata.requestId } : {}),
    ...(out.InstanceMetadataOptions?.State ? { state: out.InstanceMetadataOptions.State } : {}),
    applied: toMetadataOptions(opts) ?? {},
  };
}
