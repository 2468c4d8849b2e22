// EC2 effects for launch templates.
import {
  CreateLaunchTemplateVersionCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  ModifyLaunchTemplateCommand,
  paginateDescribeLaunchTemplates,
  paginateDescribeLaunchTemplateVersions,
  type EC2Client,
  type LaunchTemplate,
  type LaunchTemplateVersion,
  type Filter,
} from '@aws-sdk/client-ec2';
import type { TemplateInfo, TemplateVersion } from '../domain/template-versions.js';
import { toMetadataOptions, type MetadataOptions } from '../domain/policy.js';
import { toTags, type Tags } from '../domain/tags.js';

function fromSdkTemplate(t: LaunchTemplate): TemplateInfo {
  const id = t.LaunchTemplateId;
  if (!id) throw new Error('EC2 returned a launch template without a LaunchTemplateId');
  return {
    id,
    name: t.LaunchTemplateName ?? id,
    defaultVersion: t.DefaultVersionNumber ?? 1,
    latestVersion: t.LatestVersionNumber ?? t.DefaultVersionNumber ?? 1,
    tags: toTags(t.Tags),
  };
}

function fromSdkVersion(v: LaunchTemplateVersion): TemplateVersion {
  const data = v.LaunchTemplateData ?? {};
  const instanceTags: Tags = {};
  for (const spec of data.TagSpecifications ?? []) {
    if (!spec.ResourceType || spec.ResourceType === 'instance') Object.assign(instanceTags, toTags(spec.Tags));
  }
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
  // Without either, DescribeLaunchTemplates would list every template: refuse instead.
  const input = ref.id ? { LaunchTemplateIds: [ref.id] } : ref.name ? { LaunchTemplateNames: [ref.name] } : undefined;
  if (!input) throw new Error('a launch template is described by its ID or its name');
  try {
    const out = await ec2.send(new DescribeLaunchTemplatesCommand(input));
    const t = out.LaunchTemplates?.[0];
    return t ? fromSdkTemplate(t) : undefined;
  } catch (err) {
    const name = (err as { name?: string }).name ?? '';
    if (name.startsWith('InvalidLaunchTemplateId') || name.startsWith('InvalidLaunchTemplateName')) return undefined;
    throw err;
  }
}

export async function* listTemplates(ec2: EC2Client, filters?: Filter[]): AsyncGenerator<TemplateInfo> {
  for await (const page of paginateDescribeLaunchTemplates(
    { client: ec2 },
    { MaxResults: 200, ...(filters ? { Filters: filters } : {}) },
  )) {
    for (const t of page.LaunchTemplates ?? []) yield fromSdkTemplate(t);
  }
}

const versionGone = (err: unknown) => (err as { name?: string }).name === 'InvalidLaunchTemplateId.VersionNotFound';

/** The named versions that exist. EC2 fails the whole call if one was deleted: then each is asked alone. */
export async function describeVersions(ec2: EC2Client, id: string, versions: (number | string)[]): Promise<TemplateVersion[]> {
  const wanted = [...new Set(versions.map(String))];
  const ask = async (vs: string[]) =>
    ((await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Versions: vs }))).LaunchTemplateVersions ?? []).map(
      fromSdkVersion,
    );
  try {
    return await ask(wanted);
  } catch (err) {
    if (!versionGone(err)) throw err;
  }
  if (wanted.length === 1) return [];
  const each = await Promise.all(wanted.map((v) => ask([v]).catch((err: unknown) => (versionGone(err) ? [] : Promise.reject(err)))));
  return each.flat();
}

/**
 * Versions from..to that exist, by MinVersion/MaxVersion (deleted versions are simply absent).
 * MinVersion is documented as "after which", so it is sent one lower and both bounds are applied here.
 */
export async function describeVersionRange(ec2: EC2Client, id: string, from: number, to: number): Promise<TemplateVersion[]> {
  if (to < from) return [];
  const out: TemplateVersion[] = [];
  const input = { LaunchTemplateId: id, MaxVersion: String(to), MaxResults: 200, ...(from > 1 ? { MinVersion: String(from - 1) } : {}) };
  for await (const page of paginateDescribeLaunchTemplateVersions({ client: ec2 }, input)) {
    out.push(...(page.LaunchTemplateVersions ?? []).map(fromSdkVersion).filter((v) => v.version >= from && v.version <= to));
  }
  return out.sort((a, b) => a.version - b.version);
}

export interface CreatedVersion {
  version: number;
  requestId?: string;
}

/** A new version from SourceVersion: only MetadataOptions is given, so every other field is inherited. */
export async function createFixedVersion(
  ec2: EC2Client,
  id: string,
  sourceVersion: number,
  mo: MetadataOptions,
  description: string,
): Promise<CreatedVersion> {
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
  return {
    version: out.LaunchTemplateVersion?.VersionNumber ?? 0,
    ...(out.$metadata?.requestId ? { requestId: out.$metadata.requestId } : {}),
  };
}

export async function setDefaultVersion(ec2: EC2Client, id: string, version: number): Promise<void> {
  await ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: id, DefaultVersion: String(version) }));
}
