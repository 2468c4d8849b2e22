// EC2 effects for launch templates.
import {
  CreateLaunchTemplateVersionCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  ModifyLaunchTemplateCommand,
  paginateDescribeLaunchTemplates,
  type EC2Client,
  type LaunchTemplate,
  type LaunchTemplateVersion,
  type Filter,
} from '@aws-sdk/client-ec2';
import type { TemplateInfo, TemplateVersion } from '../core/launch-template.js';
import { toMetadataOptions, type MetadataOptions } from '../core/metadata-options.js';
import { toTags, type Tags } from '../core/tags.js';

export function fromSdkTemplate(t: LaunchTemplate): TemplateInfo {
  return {
    id: t.LaunchTemplateId!,
    name: t.LaunchTemplateName ?? t.LaunchTemplateId!,
    defaultVersion: t.DefaultVersionNumber ?? 1,
    latestVersion: t.LatestVersionNumber ?? t.DefaultVersionNumber ?? 1,
    tags: toTags(t.Tags),
  };
}

export function fromSdkVersion(v: LaunchTemplateVersion): TemplateVersion {
  const data = v.LaunchTemplateData ?? {};
  const instanceTags = (data.TagSpecifications ?? [])
    .filter((s) => !s.ResourceType || s.ResourceType === 'instance')
    .reduce<Tags>((acc, s) => ({ ...acc, ...toTags(s.Tags) }), {});
  const mo = toMetadataOptions(data.MetadataOptions as Record<string, unknown> | undefined);
  return {
    version: v.VersionNumber ?? 0,
    ...(mo && Object.keys(mo).length ? { metadataOptions: mo } : {}),
    instanceTags,
    ...(v.VersionDescription ? { description: v.VersionDescription } : {}),
  };
}

/** One template by ID or name; undefined when it no longer exists. */
export async function describeTemplate(ec2: EC2Client, ref: { id?: string; name?: string }): Promise<TemplateInfo | undefined> {
  try {
    const out = await ec2.send(
      new DescribeLaunchTemplatesCommand(ref.id ? { LaunchTemplateIds: [ref.id] } : { LaunchTemplateNames: [ref.name!] }),
    );
    const t = out.LaunchTemplates?.[0];
    return t ? fromSdkTemplate(t) : undefined;
  } catch (err) {
    const name = (err as { name?: string }).name ?? '';
    if (name.startsWith('InvalidLaunchTemplateId') || name.startsWith('InvalidLaunchTemplateName')) return undefined;
    throw err;
  }
}

export async function* listTemplates(ec2: EC2Client, filters?: Filter[]): AsyncGenerator<TemplateInfo> {
  for await (const page of paginateDescribeLaunchTemplates({ client: ec2 }, { MaxResults: 200, ...(filters ? { Filters: filters } : {}) })) {
    for (const t of page.LaunchTemplates ?? []) yield fromSdkTemplate(t);
  }
}

export async function describeVersions(ec2: EC2Client, id: string, versions: (number | string)[]): Promise<TemplateVersion[]> {
  const out = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Versions: [...new Set(versions.map(String))] }));
  return (out.LaunchTemplateVersions ?? []).map(fromSdkVersion);
}

export interface CreatedVersion {
  version: number;
  requestId?: string;
}

/** A new version from SourceVersion: only MetadataOptions is given, so every other field is inherited. */
export async function createFixedVersion(ec2: EC2Client, id: string, sourceVersion: number, mo: MetadataOptions, description: string): Promise<CreatedVersion> {
  const out = await ec2.send(
    new CreateLaunchTemplateVersionCommand({
      LaunchTemplateId: id,
      SourceVersion: String(sourceVersion),
      VersionDescription: description,
      LaunchTemplateData: {
        // MetadataOptions replaces as a whole, so the fields outside the policy are sent as they were.
        MetadataOptions: {
          HttpTokens: mo.httpTokens,
          ...(mo.hopLimit !== undefined ? { HttpPutResponseHopLimit: mo.hopLimit } : {}),
          ...(mo.httpEndpoint ? { HttpEndpoint: mo.httpEndpoint } : {}),
          ...(mo.instanceMetadataTags ? { InstanceMetadataTags: mo.instanceMetadataTags } : {}),
          ...(mo.httpProtocolIpv6 ? { HttpProtocolIpv6: mo.httpProtocolIpv6 } : {}),
        },
      },
    }),
  );
  return { version: out.LaunchTemplateVersion?.VersionNumber ?? 0, ...(out.$metadata?.requestId ? { requestId: out.$metadata.requestId } : {}) };
}

export async function setDefaultVersion(ec2: EC2Client, id: string, version: number): Promise<void> {
  await ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: id, DefaultVersion: String(version) }));
}
