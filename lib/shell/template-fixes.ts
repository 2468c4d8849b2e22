// EC2 effects on one launch template, shared by the launch-template and node group kinds: find it with
// the versions a decision needs, and apply planned fixes (new versions, then the default).
import { errorOf, type ErrorInfo } from '../domain/errors.js';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { FoundTemplate, TemplateFix, TemplateInfo } from '../domain/template-versions.js';
import { createFixedVersion, describeTemplate, describeVersionRange, describeVersions, setDefaultVersion } from './template-versions.js';

/** find: the template and its default, latest and affected versions. */
export async function findTemplate(
  ec2: EC2Client,
  ref: { id?: string; name?: string; region: string; account: string; version?: number },
): Promise<FoundTemplate | undefined> {
  const template = await describeTemplate(ec2, ref);
  if (!template) return undefined;
  const wanted = [template.defaultVersion, template.latestVersion, ...(ref.version ? [ref.version] : [])];
  return { template, versions: await describeVersions(ec2, template.id, wanted), region: ref.region, account: ref.account };
}

/** Most recent versions after `from` that planning looks at (earlier fixes to reuse): one page. */
const HISTORY = 200;

/** Adds the versions after `from` (up to the latest) that still exist, for reuse of earlier fixes. */
export async function withVersionsAfter(ec2: EC2Client, f: FoundTemplate, from: number): Promise<FoundTemplate> {
  const to = f.template.latestVersion;
  const later = await describeVersionRange(ec2, f.template.id, Math.max(from + 1, to - HISTORY + 1), to);
  const byVersion = new Map([...f.versions, ...later].map((v) => [v.version, v]));
  return { ...f, versions: [...byVersion.values()].sort((a, b) => a.version - b.version) };
}

export interface FixResult {
  sourceVersion: number;
  kind: TemplateFix['kind'];
  /** The version created, or reused from an earlier run; set even when a later step failed. */
  newVersion?: number;
  reused: boolean;
  madeDefault: boolean;
  requestId?: string;
  error?: { name: string; message: string };
}

/**
 * What a record says of the old $Latest's copy: the version it repeats, and the version made or the error.
 *
 * @example
 * latestCopyOf({ sourceVersion: 3, kind: 'latest', newVersion: 5, reused: false, madeDefault: false });
 * // => { sourceVersion: 3, newVersion: 5 }
 */
export function latestCopyOf(r: FixResult): { sourceVersion: number; newVersion?: number; error?: ErrorInfo } {
  return {
    sourceVersion: r.sourceVersion,
    ...(r.newVersion !== undefined ? { newVersion: r.newVersion } : {}),
    ...(r.error ? { error: r.error } : {}),
  };
}

/**
 * remediate: every version first, in plan order (the old $Latest's copy last), then the default. The first
 * failure stops the rest and leaves the default alone: a retry reuses what was made and finishes the job.
 */
export async function applyTemplateFixes(ec2: EC2Client, t: TemplateInfo, fixes: TemplateFix[]): Promise<FixResult[]> {
  const results: FixResult[] = [];
  let failure: string | undefined;
  for (const fix of fixes) {
    const base = { sourceVersion: fix.sourceVersion, kind: fix.kind, madeDefault: false };
    if (failure) {
      results.push({ ...base, reused: false, error: { name: 'NotAttempted', message: failure } });
    } else if (fix.reuse !== undefined) {
      results.push({ ...base, newVersion: fix.reuse, reused: true });
    } else {
      try {
        const created = await createFixedVersion(ec2, t.id, fix.sourceVersion, fix.metadataOptions, fix.description);
        results.push({
          ...base,
          newVersion: created.version,
          reused: false,
          ...(created.requestId ? { requestId: created.requestId } : {}),
        });
      } catch (err) {
        failure = `not attempted: creating a version from ${fix.sourceVersion} failed (${errorOf(err).name})`;
        results.push({ ...base, reused: false, error: errorOf(err) });
      }
    }
  }
  const i = fixes.findIndex((f) => f.makeDefault);
  const r = results[i];
  if (r?.newVersion !== undefined) {
    if (failure) {
      r.error ??= {
        name: 'DefaultNotSet',
        message: `version ${r.newVersion} was not made the default: ${failure.replace('not attempted: ', '')}`,
      };
    } else {
      try {
        await setDefaultVersion(ec2, t.id, r.newVersion);
        r.madeDefault = true;
      } catch (err) {
        r.error = errorOf(err);
      }
    }
  }
  return results;
}
