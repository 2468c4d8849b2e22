// EC2 launch templates. Version data is stored as the SDK's
// `RequestLaunchTemplateData` and re-encoded with `ResponseLaunchTemplateData`
// (their members are identical), so any field round-trips without special code.
import type {
  CreateLaunchTemplateRequest,
  CreateLaunchTemplateVersionRequest,
  DescribeLaunchTemplateVersionsRequest,
  DescribeLaunchTemplatesRequest,
  LaunchTemplate,
  LaunchTemplateVersion,
  ModifyLaunchTemplateRequest,
  DeleteLaunchTemplateRequest,
  DeleteLaunchTemplateVersionsRequest,
  DeleteLaunchTemplateVersionsResponseErrorItem,
  DeleteLaunchTemplateVersionsResponseSuccessItem,
  LaunchTemplateErrorCode,
} from '@aws-sdk/client-ec2';
import { AwsError, invalidParam } from '../errors.js';
import type { Ctx } from '../runtime.js';
import type { LaunchTemplateRecord, LaunchTemplateVersionRecord, RegionState, Tags } from '../state.js';
import { applyFilters, tagFields, type FieldGetter } from './ec2-filters.js';
import { page } from './paging.js';
import { tagList, tagsFromSpecs, checkUserTagKeys } from './ec2-tags.js';

type Data = Record<string, unknown>;

export function findTemplate(rs: RegionState, id?: string, name?: string): LaunchTemplateRecord {
  if (id) {
    if (!/^lt-[0-9a-f]{17}$/.test(id)) {
      throw new AwsError(
        'InvalidLaunchTemplateId.Malformed',
        `The specified ID for the launch template (${id}) is not valid. Use a valid launch template ID and try again.`,
      );
    }
    const lt = rs.launchTemplates.get(id);
    if (!lt)
      throw new AwsError('InvalidLaunchTemplateId.NotFound', `The specified launch template, with template ID ${id}, does not exist.`);
    return lt;
  }
  if (name) {
    const lt = rs.launchTemplateByName(name);
    if (!lt)
      throw new AwsError(
        'InvalidLaunchTemplateName.NotFoundException',
        `The specified launch template, with template name ${name}, does not exist.`,
      );
    return lt;
  }
  throw new AwsError('MissingParameter', 'The request must include either a launch template ID or a launch template name.');
}

/** `undefined` → `$Default`; accepts numbers, `$Latest`, `$Default`. */
export function resolveVersion(lt: LaunchTemplateRecord, v?: string): LaunchTemplateVersionRecord {
  const n = v === undefined || v === '$Default' ? lt.defaultVersion : v === '$Latest' ? lt.latestVersion : Number(v);
  const rec = Number.isInteger(n) ? lt.versions.get(n) : undefined;
  if (!rec) {
    throw new AwsError(
      'InvalidLaunchTemplateId.VersionNotFound',
      `Could not find launch template version ${v} for launch template ${lt.id}.`,
    );
  }
  return rec;
}

function validateData(data: Data): void {
  const mo = data.MetadataOptions as Record<string, unknown> | undefined;
  if (!mo) return;
  const hop = mo.HttpPutResponseHopLimit;
  if (hop !== undefined && (typeof hop !== 'number' || hop < 1 || hop > 64)) {
    throw invalidParam(`The value '${String(hop)}' for HttpPutResponseHopLimit is invalid. It must be between 1 and 64.`);
  }
  if (mo.HttpTokens !== undefined && mo.HttpTokens !== 'optional' && mo.HttpTokens !== 'required') {
    throw invalidParam(`The value '${String(mo.HttpTokens)}' for HttpTokens is invalid.`);
  }
  checkUserTagKeys(((data.TagSpecifications as { Tags?: { Key?: string }[] }[] | undefined) ?? []).flatMap((s) => s.Tags ?? []));
}

function isPlain(v: unknown): v is Data {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** Objects merge recursively; scalars and lists from `over` replace. */
function deepMerge(base: Data, over: Data): Data {
  const out: Data = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isPlain(v) && isPlain(out[k]) ? deepMerge(out[k] as Data, v) : v;
  return out;
}

/** Shared by the API and by EKS (which creates `eks-<uuid>` templates). */
export function createTemplate(
  ctx: Ctx,
  p: { name: string; data: Data; description?: string; tags?: Tags; createdBy?: string },
): LaunchTemplateRecord {
  const { rs, rt } = ctx;
  if (!/^[a-zA-Z0-9().\-/_]{3,128}$/.test(p.name)) {
    throw invalidParam(
      `Launch template name must be between 3 and 128 characters, and may contain only letters, numbers, and the following characters: - ( ) . / _.`,
    );
  }
  if (rs.launchTemplateByName(p.name)) {
    throw new AwsError('InvalidLaunchTemplateName.AlreadyExistsException', `Launch template name already in use.`);
  }
  validateData(p.data);
  const now = new Date();
  const createdBy = p.createdBy ?? rt.state.callerArn;
  const lt: LaunchTemplateRecord = {
    id: `lt-${rt.state.ids.hex(17)}`,
    name: p.name,
    createTime: now,
    createdBy,
    defaultVersion: 1,
    latestVersion: 1,
    tags: p.tags ?? {},
    versions: new Map([[1, { number: 1, description: p.description, createTime: now, createdBy, data: p.data }]]),
  };
  rs.launchTemplates.set(lt.id, lt);
  return lt;
}

export function addVersion(
  ctx: Ctx,
  lt: LaunchTemplateRecord,
  data: Data,
  description?: string,
  createdBy?: string,
): LaunchTemplateVersionRecord {
  validateData(data);
  const v: LaunchTemplateVersionRecord = {
    number: Math.max(lt.latestVersion, lt.lastNumber ?? 0) + 1,
    description,
    createTime: new Date(),
    createdBy: createdBy ?? ctx.rt.state.callerArn,
    data,
  };
  lt.versions.set(v.number, v);
  lt.latestVersion = lt.lastNumber = v.number;
  return v;
}

function templateShape(lt: LaunchTemplateRecord): LaunchTemplate {
  return {
    LaunchTemplateId: lt.id,
    LaunchTemplateName: lt.name,
    CreateTime: lt.createTime,
    CreatedBy: lt.createdBy,
    DefaultVersionNumber: lt.defaultVersion,
    LatestVersionNumber: lt.latestVersion,
    Tags: tagList(lt.tags),
  };
}

function versionShape(lt: LaunchTemplateRecord, v: LaunchTemplateVersionRecord): LaunchTemplateVersion {
  return {
    LaunchTemplateId: lt.id,
    LaunchTemplateName: lt.name,
    VersionNumber: v.number,
    VersionDescription: v.description,
    CreateTime: v.createTime,
    CreatedBy: v.createdBy,
    DefaultVersion: v.number === lt.defaultVersion,
    LaunchTemplateData: v.data,
  };
}

function checkMax(max: number | undefined, lo: number, hi: number): void {
  if (max !== undefined && (max < lo || max > hi)) {
    throw invalidParam(`Value ( ${max} ) for parameter maxResults is invalid. Parameter must be between ${lo} and ${hi}.`);
  }
}

const badToken = () => new AwsError('InvalidPaginationToken', 'The specified pagination token is not valid or is expired.');

const ltFields: Record<string, FieldGetter<LaunchTemplateRecord>> = {
  ...tagFields((lt) => lt.tags),
  'launch-template-name': (lt) => [lt.name],
  'launch-template-id': (lt) => [lt.id],
};

function mo(v: LaunchTemplateVersionRecord): Record<string, unknown> {
  return (v.data.MetadataOptions as Record<string, unknown> | undefined) ?? {};
}

const versionFields: Record<string, FieldGetter<{ lt: LaunchTemplateRecord; v: LaunchTemplateVersionRecord }>> = {
  'is-default-version': ({ lt, v }) => [String(lt.defaultVersion === v.number)],
  'image-id': ({ v }) => [v.data.ImageId as string | undefined],
  'instance-type': ({ v }) => [v.data.InstanceType as string | undefined],
  'http-tokens': ({ v }) => [mo(v).HttpTokens as string | undefined],
  'http-endpoint': ({ v }) => [mo(v).HttpEndpoint as string | undefined],
  'http-put-response-hop-limit': ({ v }) => [mo(v).HttpPutResponseHopLimit as number | undefined],
};

export const templateHandlers = {
  CreateLaunchTemplate(ctx: Ctx, input: CreateLaunchTemplateRequest) {
    if (!input.LaunchTemplateName) throw new AwsError('MissingParameter', 'The request must contain the parameter LaunchTemplateName');
    const tags = tagsFromSpecs(input.TagSpecifications, 'launch-template');
    checkUserTagKeys(tagList(tags));
    const lt = createTemplate(ctx, {
      name: input.LaunchTemplateName,
      data: (input.LaunchTemplateData ?? {}) as Data,
      description: input.VersionDescription,
      tags,
    });
    return { LaunchTemplate: templateShape(lt) };
  },

  CreateLaunchTemplateVersion(ctx: Ctx, input: CreateLaunchTemplateVersionRequest) {
    const lt = findTemplate(ctx.rs, input.LaunchTemplateId, input.LaunchTemplateName);
    let data = (input.LaunchTemplateData ?? {}) as Data;
    if (input.SourceVersion !== undefined) data = deepMerge(resolveVersion(lt, input.SourceVersion).data, data);
    const v = addVersion(ctx, lt, data, input.VersionDescription);
    return { LaunchTemplateVersion: versionShape(lt, v) };
  },

  DescribeLaunchTemplates(ctx: Ctx, input: DescribeLaunchTemplatesRequest) {
    checkMax(input.MaxResults, 1, 200);
    let items = [...ctx.rs.launchTemplates.values()];
    if (input.LaunchTemplateIds?.length) items = input.LaunchTemplateIds.map((id) => findTemplate(ctx.rs, id));
    if (input.LaunchTemplateNames?.length) {
      const names = input.LaunchTemplateNames;
      items = items.filter((lt) => names.includes(lt.name));
      if (items.length < names.length) {
        throw new AwsError(
          'InvalidLaunchTemplateName.NotFoundException',
          'At least one of the launch templates specified in the request does not exist.',
        );
      }
    }
    items = applyFilters(items, input.Filters, ltFields, (lt) => lt.tags);
    const p = page(items, input.MaxResults, input.NextToken, 'DescribeLaunchTemplates', badToken);
    return { LaunchTemplates: p.items.map(templateShape), NextToken: p.next };
  },

  DescribeLaunchTemplateVersions(ctx: Ctx, input: DescribeLaunchTemplateVersionsRequest) {
    checkMax(input.MaxResults, 1, 200);
    let items: { lt: LaunchTemplateRecord; v: LaunchTemplateVersionRecord }[];
    if (!input.LaunchTemplateId && !input.LaunchTemplateName) {
      // AWS allows this only for the $Latest / $Default aliases, across all templates.
      const vs = input.Versions ?? [];
      if (!vs.length || vs.some((v) => v !== '$Latest' && v !== '$Default')) {
        throw new AwsError('MissingParameter', 'The request must include either a launch template ID or a launch template name.');
      }
      items = [...ctx.rs.launchTemplates.values()].flatMap((lt) =>
        [...new Set(vs.map((v) => resolveVersion(lt, v)))].map((v) => ({ lt, v })),
      );
    } else {
      const lt = findTemplate(ctx.rs, input.LaunchTemplateId, input.LaunchTemplateName);
      const vs = input.Versions?.length ? [...new Set(input.Versions.map((v) => resolveVersion(lt, v)))] : [...lt.versions.values()];
      const min = input.MinVersion ? Number(input.MinVersion) : -Infinity;
      const max = input.MaxVersion ? Number(input.MaxVersion) : Infinity;
      items = vs.filter((v) => v.number >= min && v.number <= max).map((v) => ({ lt, v }));
    }
    items = applyFilters(items, input.Filters, versionFields, ({ lt }) => lt.tags);
    const scope = `DescribeLaunchTemplateVersions:${input.LaunchTemplateId ?? input.LaunchTemplateName ?? '*'}`;
    const p = page(items, input.MaxResults, input.NextToken, scope, badToken);
    return { LaunchTemplateVersions: p.items.map(({ lt, v }) => versionShape(lt, v)), NextToken: p.next };
  },

  ModifyLaunchTemplate(ctx: Ctx, input: ModifyLaunchTemplateRequest) {
    const lt = findTemplate(ctx.rs, input.LaunchTemplateId, input.LaunchTemplateName);
    if (input.DefaultVersion !== undefined) lt.defaultVersion = resolveVersion(lt, input.DefaultVersion).number;
    return { LaunchTemplate: templateShape(lt) };
  },

  /** Per-version outcomes, as EC2 reports them; the default version cannot be deleted. */
  DeleteLaunchTemplateVersions(ctx: Ctx, input: DeleteLaunchTemplateVersionsRequest) {
    const lt = findTemplate(ctx.rs, input.LaunchTemplateId, input.LaunchTemplateName);
    const vs = input.Versions ?? [];
    if (!vs.length) throw new AwsError('MissingParameter', 'The request must contain the parameter LaunchTemplateVersion');
    if (vs.length > 200) throw invalidParam('You can specify up to 200 launch template versions.');
    const ok: DeleteLaunchTemplateVersionsResponseSuccessItem[] = [];
    const failed: DeleteLaunchTemplateVersionsResponseErrorItem[] = [];
    const ref = { LaunchTemplateId: lt.id, LaunchTemplateName: lt.name };
    for (const raw of vs) {
      const n = Number(raw);
      const fail = (Code: LaunchTemplateErrorCode, Message: string) =>
        failed.push({ ...ref, ...(Number.isInteger(n) ? { VersionNumber: n } : {}), ResponseError: { Code, Message } });
      if (!Number.isInteger(n) || !lt.versions.has(n))
        fail('launchTemplateVersionDoesNotExist', `The specified launch template version ${raw} does not exist.`);
      else if (n === lt.defaultVersion) fail('unexpectedError', 'Cannot delete the default version of a launch template.');
      else {
        lt.versions.delete(n);
        ok.push({ ...ref, VersionNumber: n });
      }
    }
    lt.latestVersion = Math.max(...lt.versions.keys());
    return { SuccessfullyDeletedLaunchTemplateVersions: ok, UnsuccessfullyDeletedLaunchTemplateVersions: failed };
  },

  DeleteLaunchTemplate(ctx: Ctx, input: DeleteLaunchTemplateRequest) {
    const lt = findTemplate(ctx.rs, input.LaunchTemplateId, input.LaunchTemplateName);
    ctx.rs.launchTemplates.delete(lt.id);
    return { LaunchTemplate: templateShape(lt) };
  },
};
