// Launch template policy: which versions are bad, and which new versions fix them. Pure.
import { applyRemediation, describeViolations, evaluate, planRemediation, type MetadataOptions, type Policy } from './policy.js';
import { identifyNode } from './scope.js';
import type { Tags } from './tags.js';

export interface TemplateVersion {
  version: number;
  /** From LaunchTemplateData.MetadataOptions; undefined when the version sets none. */
  metadataOptions?: MetadataOptions;
  /** Tags the version stamps on instances (LaunchTemplateData.TagSpecifications). */
  instanceTags: Tags;
  description?: string;
}

export interface TemplateInfo {
  id: string;
  name: string;
  defaultVersion: number;
  latestVersion: number;
  tags: Tags;
}

const EKS_MANAGED_NAME = /^eks-[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/;

/**
 * Templates EKS creates for node groups without a custom template. Editing them puts the node group
 * into Ec2LaunchTemplateVersionMismatch (REFERENCE §4), so they are reported, never changed.
 */
export function isEksManaged(t: Pick<TemplateInfo, 'name' | 'tags'>): boolean {
  return EKS_MANAGED_NAME.test(t.name) || (t.name.startsWith('eks-') && t.tags['eks:nodegroup-name'] !== undefined);
}

/** Does the template launch EKS nodes, judged by its own tags or the tags it stamps on instances? */
export function launchesEksNodes(t: TemplateInfo, versions: TemplateVersion[]): { eks: boolean; cluster?: string } {
  for (const tags of [t.tags, ...versions.map((v) => v.instanceTags)]) {
    const id = identifyNode(tags);
    if (id.eks) return { eks: true, ...(id.cluster ? { cluster: id.cluster } : {}) };
  }
  return { eks: false };
}

export interface VersionVerdict {
  version: number;
  roles: ('default' | 'latest' | 'affected')[];
  before?: MetadataOptions;
  violations: string[];
}

export function judgeVersions(t: TemplateInfo, versions: TemplateVersion[], policy: Policy, affected?: number): VersionVerdict[] {
  const wanted = new Map<number, VersionVerdict['roles']>();
  const add = (v: number, role: VersionVerdict['roles'][number]) => wanted.set(v, [...(wanted.get(v) ?? []), role]);
  add(t.defaultVersion, 'default');
  add(t.latestVersion, 'latest');
  if (affected !== undefined) add(affected, 'affected');
  return [...wanted.entries()].flatMap(([version, roles]) => {
    const v = versions.find((x) => x.version === version);
    if (!v) return [];
    const ev = evaluate(v.metadataOptions ?? {}, policy);
    return [
      {
        version,
        roles,
        ...(v.metadataOptions ? { before: v.metadataOptions } : {}),
        violations: ev.compliant ? [] : describeViolations(ev.violations),
      },
    ];
  });
}

export interface TemplateFix {
  sourceVersion: number;
  /** `fix`: the source breaks the policy. `latest`: the old $Latest created again, fixed only if it was bad. */
  kind: 'fix' | 'latest';
  makeDefault: boolean;
  before?: MetadataOptions;
  /** The complete MetadataOptions for the new version: the old fields with the policy's fixed. */
  metadataOptions: MetadataOptions;
  violations: string[];
  description: string;
  /** A compliant version imds-guard already made from the source (a retried event): used, not created again. */
  reuse?: number;
}

export interface FixTarget {
  version: number;
  makeDefault: boolean;
}

// A fix names its source in its description: written by planOne, read back by existingFix and buriedLatest.
const fixPrefix = (source: number) => `imds-guard: MetadataOptions fixed from version ${source} `;
const fixSource = (description: string | undefined): number | undefined => {
  const m = /^imds-guard: MetadataOptions fixed from version (\d+) /.exec(description ?? '');
  return m ? Number(m[1]) : undefined;
};

function planOne(
  v: TemplateVersion | undefined,
  version: number,
  policy: Policy,
  kind: TemplateFix['kind'],
  makeDefault: boolean,
  latestAfter?: number,
): TemplateFix {
  const before = v?.metadataOptions ?? {};
  const ev = evaluate(before, policy);
  const common = { sourceVersion: version, kind, makeDefault, ...(v?.metadataOptions ? { before: v.metadataOptions } : {}) };
  if (ev.compliant) {
    return {
      ...common,
      metadataOptions: before,
      violations: [],
      description: `imds-guard: copy of version ${version}, so $Latest keeps its content after version ${latestAfter} was fixed`.slice(
        0,
        255,
      ),
    };
  }
  return {
    ...common,
    metadataOptions: applyRemediation(before, planRemediation(before, policy)),
    violations: describeViolations(ev.violations),
    description: `${fixPrefix(version)}(HttpTokens=required, hop limit <= ${policy.maxHopLimit})`.slice(0, 255),
  };
}

/**
 * The versions to create for bad `targets`, default first. A new version becomes $Latest, and ASGs and
 * CreateFleet often launch $Latest: so when a fix descends from a version older than the latest, the old
 * latest is created again last (fixed if bad, else copied), and $Latest keeps its content.
 * `versions` should hold every version after the oldest target, so earlier fixes are reused.
 */
export function planFixes(targets: FixTarget[], latest: number, versions: TemplateVersion[], policy: Policy): TemplateFix[] {
  const byVersion = new Map(versions.map((v) => [v.version, v]));
  const ordered = [...new Map(targets.map((t) => [t.version, t])).values()].sort(
    (a, b) => Number(b.makeDefault) - Number(a.makeDefault) || a.version - b.version,
  );
  const fixes = ordered.map((t) => {
    const fix = planOne(byVersion.get(t.version), t.version, policy, 'fix', t.makeDefault);
    const reuse = existingFix(versions, t.version, policy)?.version;
    return reuse !== undefined ? { ...fix, reuse } : fix;
  });
  if (fixes.some((f) => f.sourceVersion === latest)) return fixes;
  // The old latest to recreate: the current one if a new version will bury it, or the one an earlier
  // run buried when it failed before recreating it.
  const created = fixes.filter((f) => f.reuse === undefined && f.sourceVersion < latest);
  const restore = created.length ? latest : buriedLatest(versions, latest);
  if (restore === undefined) return fixes;
  const after = created[0]?.sourceVersion ?? fixes[0]?.sourceVersion;
  return [...fixes, planOne(byVersion.get(restore), restore, policy, 'latest', false, after)];
}

/**
 * New versions for a bad default and a bad latest version (the latest last, so $Latest keeps its
 * lineage), plus a copy of a good latest when the default's fix would otherwise replace it as $Latest.
 */
export function planTemplateFixes(verdicts: VersionVerdict[], policy: Policy, versions: TemplateVersion[] = []): TemplateFix[] {
  const latest = verdicts.find((v) => v.roles.includes('latest'))?.version;
  const bad = verdicts.filter((v) => v.violations.length > 0 && (v.roles.includes('default') || v.roles.includes('latest')));
  if (bad.length === 0 || latest === undefined) return [];
  const known = new Map(versions.map((v) => [v.version, v]));
  for (const v of verdicts)
    if (!known.has(v.version))
      known.set(v.version, { version: v.version, ...(v.before ? { metadataOptions: v.before } : {}), instanceTags: {} });
  return planFixes(
    bad.map((v) => ({ version: v.version, makeDefault: v.roles.includes('default') })),
    latest,
    [...known.values()],
    policy,
  );
}

/** A compliant version imds-guard already derived from `source` (so a second trigger reuses it). */
export function existingFix(versions: TemplateVersion[], source: number, policy: Policy): TemplateVersion | undefined {
  return versions.find(
    (v) => v.version > source && fixSource(v.description) === source && evaluate(v.metadataOptions ?? {}, policy).compliant,
  );
}

/**
 * The version an interrupted run left buried: the latest is an imds-guard fix of an older version S, yet the
 * version right before it (the latest when the fix was made) is neither S nor imds-guard's, so its copy is missing.
 */
export function buriedLatest(versions: TemplateVersion[], latest: number): number | undefined {
  const top = versions.find((v) => v.version === latest);
  const source = fixSource(top?.description);
  const prev = versions.find((v) => v.version === latest - 1);
  if (!source || !prev || prev.version === source || prev.description?.startsWith('imds-guard:')) return undefined;
  return prev.version;
}

/** A template with the versions a run looked at. */
export interface FoundTemplate {
  template: TemplateInfo;
  versions: TemplateVersion[];
  region: string;
  account: string;
}

/** A bad default older than the latest: its fix may exist already, and it will bury the latest. */
export function needsHistory(f: FoundTemplate, policy: Policy): boolean {
  const { defaultVersion, latestVersion } = f.template;
  const d = f.versions.find((v) => v.version === defaultVersion);
  return defaultVersion < latestVersion && !evaluate(d?.metadataOptions ?? {}, policy).compliant;
}

/** What an audit reason says of the old $Latest created again as `newVersion` (templates and node groups alike). */
export function latestCopyNote(copy: Pick<TemplateFix, 'sourceVersion' | 'violations'>, newVersion: number): string {
  const fixed = copy.violations.length ? ' (fixed)' : '';
  return `; version ${newVersion} repeats version ${copy.sourceVersion}${fixed} so $Latest keeps its content`;
}

/** The tags that route a template to its owner: its versions' instance tags, under its own. */
export function templateOwnerTags(f: Pick<FoundTemplate, 'template' | 'versions'>): Tags {
  return Object.assign({}, ...f.versions.map((v) => v.instanceTags), f.template.tags);
}
