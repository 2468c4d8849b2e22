// Launch template policy: which versions are bad, and which new versions fix them. Pure.
import { applyRemediation, describeViolations, evaluate, planRemediation, type MetadataOptions, type Policy } from './metadata-options.js';
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
    return [{ version, roles, ...(v.metadataOptions ? { before: v.metadataOptions } : {}), violations: ev.compliant ? [] : describeViolations(ev.violations) }];
  });
}

export interface TemplateFix {
  sourceVersion: number;
  makeDefault: boolean;
  before?: MetadataOptions;
  /** The complete MetadataOptions for the new version: the old fields with the policy's fixed. */
  metadataOptions: MetadataOptions;
  description: string;
}

/**
 * New versions for a bad default and a bad latest version. The default is fixed first so that the
 * last version created (the new $Latest) derives from the old $Latest, and both keep their meaning.
 */
export function planTemplateFixes(verdicts: VersionVerdict[], policy: Policy): TemplateFix[] {
  const bad = verdicts.filter((v) => v.violations.length > 0 && (v.roles.includes('default') || v.roles.includes('latest')));
  bad.sort((a, b) => Number(b.roles.includes('default')) - Number(a.roles.includes('default')));
  return bad.map((v) => {
    const before = v.before ?? {};
    return {
      sourceVersion: v.version,
      makeDefault: v.roles.includes('default'),
      ...(v.before ? { before: v.before } : {}),
      metadataOptions: applyRemediation(before, planRemediation(before, policy)),
      description: `imds-guard: MetadataOptions fixed from version ${v.version} (HttpTokens=required, hop limit <= ${policy.maxHopLimit})`.slice(0, 255),
    };
  });
}

/** A compliant version imds-guard already derived from `source` (so a second trigger reuses it). */
export function existingFix(versions: TemplateVersion[], source: number, policy: Policy): TemplateVersion | undefined {
  return versions.find(
    (v) => v.version > source && v.description?.startsWith(`imds-guard: MetadataOptions fixed from version ${source} `) && evaluate(v.metadataOptions ?? {}, policy).compliant,
  );
}
