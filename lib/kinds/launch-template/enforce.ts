// Wires the launch template module's verbs together. Shared by the event handler and the backfill.
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { AuditFacts, AuditRecord } from '../../domain/audit.js';
import type { Trigger } from '../../domain/cloudtrail.js';
import {
  latestCopyNote,
  launchesEksNodes,
  needsHistory,
  templateOwnerTags,
  type FoundTemplate,
  type TemplateFix,
  type TemplateInfo,
} from '../../domain/template-versions.js';
import type { Tags } from '../../domain/tags.js';
import { latestCopyOf, withVersionsAfter } from '../../shell/template-fixes.js';
import type { LaunchTemplateTarget } from './events.js';
import type { Settings } from '../../domain/scope.js';
import * as lt from './launch-template.js';
import type { PolicyFor } from '../../shell/identity.js';
import type { UsedBy } from '../../shell/nodegroup-index.js';
import { errorOf } from '../../domain/errors.js';

export interface TemplateRun {
  ec2: EC2Client;
  mode: 'enforce' | 'dry-run';
  settings: Settings;
  policyFor: PolicyFor;
  usedBy: UsedBy;
}

type Facts = Omit<AuditFacts, 'outcome'> & { cluster?: string };

/** What applying a planned fix needs: the template was found and judged once, so apply describes nothing again. */
export interface ReadyTemplate {
  subject: { id: string; name: string; region: string; account: string; tags: Tags };
  facts: Facts;
  template: TemplateInfo;
  fixes: TemplateFix[];
}

/** The records a dry run writes, and (when something would change) what apply needs. */
export interface TemplatePlan {
  records: AuditRecord[];
  ready?: ReadyTemplate;
}

/**
 * The event handlers' and the CLI's verb: plan, then (enforce mode) apply the plan.
 *
 * @example
 * const records = await enforceTemplate({ region, account, launchTemplateId: 'lt-0abc' }, trigger, run);
 */
export async function enforceTemplate(target: LaunchTemplateTarget, trigger: Trigger, run: TemplateRun): Promise<AuditRecord[]> {
  const p = await planTemplate(target, trigger, run);
  return p.ready && run.mode === 'enforce' ? applyTemplate(p.ready, run) : p.records;
}

/**
 * Find and evaluate one template. Skipped, reported and failed templates end in their records; a template
 * to fix gets its dry-run records and a ReadyTemplate for applyTemplate.
 */
export async function planTemplate(target: LaunchTemplateTarget, trigger: Trigger, run: TemplateRun): Promise<TemplatePlan> {
  const ref = { id: target.launchTemplateId ?? target.launchTemplateName ?? 'unknown', region: target.region, account: target.account };
  const base = { trigger, mode: run.mode };
  const wrap = (records: AuditRecord[]): TemplatePlan => ({ records });
  const failed = (subject: typeof ref, reason: string, err: unknown): TemplatePlan =>
    wrap([lt.describe(subject, run.settings, { ...base, outcome: 'failed', error: errorOf(err), reason })]);
  let found: FoundTemplate | undefined;
  try {
    found = await lt.find(run.ec2, {
      // The event parser keeps only targets with an ID or a name; the ID wins when both are known.
      ...(target.launchTemplateId ? { id: target.launchTemplateId } : {}),
      ...(!target.launchTemplateId && target.launchTemplateName ? { name: target.launchTemplateName } : {}),
      region: target.region,
      account: target.account,
      ...(target.version ? { version: Number(target.version) } : {}),
    });
  } catch (err) {
    return failed(ref, 'could not describe the launch template', err);
  }
  if (!found) return wrap([lt.describe(ref, run.settings, { ...base, outcome: 'gone', reason: 'launch template no longer exists' })]);

  const t = found.template;
  const subject = { id: t.id, name: t.name, region: found.region, account: found.account, tags: templateOwnerTags(found) };
  // A custom template with no EKS tags may still be used by a node group: look that up only when needed.
  const eks = launchesEksNodes(t, found.versions);
  const usedBy = run.settings.scope === 'eks' && !eks.eks ? await run.usedBy(t.id, t.name) : [];
  const gate = await run.policyFor(eks.cluster ?? usedBy[0]?.cluster);
  const affected = target.version ? Number(target.version) : undefined;
  let d = lt.evaluate(found, gate.policy, run.settings, usedBy, affected);
  if (d.action === 'fix' && needsHistory(found, gate.policy)) {
    // Versions after the bad default: an earlier fix to reuse (a retried event), or a $Latest left buried.
    try {
      found = await withVersionsAfter(run.ec2, found, t.defaultVersion);
    } catch (err) {
      return failed(subject, 'could not describe the launch template versions', err);
    }
    d = lt.evaluate(found, gate.policy, run.settings, usedBy, affected);
  }
  const cluster = d.cluster;
  const worst = d.verdicts.find((v) => v.violations.length > 0);
  const facts = { ...base, ...(cluster ? { cluster } : {}), notes: gate.notes, details: { versions: d.verdicts, ...(gate.details ?? {}) } };

  if (d.action === 'skip') return wrap([lt.describe(subject, run.settings, { ...facts, outcome: d.outcome, reason: d.reason, notes: [] })]);
  if (d.action === 'report') {
    return wrap([
      lt.describe(subject, run.settings, {
        ...facts,
        outcome: 'reported',
        reason: d.reason,
        ...(worst?.before ? { before: worst.before } : {}),
        violations: worst?.violations ?? [],
        details: { ...facts.details, recommendation: d.recommendation },
      }),
    ]);
  }
  const ready: ReadyTemplate = { subject, facts, template: t, fixes: d.fixes };
  return { records: dryRunRecords(ready, run.settings), ready };
}

/** One would-remediate record per version the plan would fix. */
function dryRunRecords(r: ReadyTemplate, settings: Settings): AuditRecord[] {
  const { subject } = r;
  const facts = { ...r.facts, mode: 'dry-run' as const };
  // One record per fixed version, so each before/after pair is exact. The old $Latest's copy belongs to
  // the record of the fix that would otherwise have replaced it.
  const fixes = r.fixes.filter((f) => f.kind === 'fix');
  const copy = r.fixes.find((f) => f.kind === 'latest');
  return fixes.map((f, i) => {
    const what =
      f.reuse !== undefined
        ? `make version ${f.reuse} (made from version ${f.sourceVersion} by an earlier run) the default`
        : `create a version from ${f.sourceVersion}${f.makeDefault ? ' and make it the default' : ''}`;
    const then =
      i === 0 && copy
        ? `, then version ${copy.sourceVersion} again${copy.violations.length ? ' (fixed)' : ''} so $Latest keeps its content`
        : '';
    // sourceVersion keeps the two records of one template (default and latest) apart, as in enforce mode.
    return lt.describe(subject, settings, {
      ...facts,
      details: { ...facts.details, sourceVersion: f.sourceVersion },
      outcome: 'would-remediate',
      ...(f.before ? { before: f.before } : {}),
      desired: f.metadataOptions,
      after: f.metadataOptions,
      reason: `dry run: would ${what}${then}`,
      violations: f.violations,
    });
  });
}

/** Apply a plan: create (or reuse) the versions, then set the default. */
export async function applyTemplate(plan: ReadyTemplate, run: Pick<TemplateRun, 'ec2' | 'mode' | 'settings'>): Promise<AuditRecord[]> {
  const { subject, template: t } = plan;
  const facts = { ...plan.facts, mode: run.mode };
  const d = { fixes: plan.fixes };
  const fixes = plan.fixes.filter((f) => f.kind === 'fix');
  const copy = plan.fixes.find((f) => f.kind === 'latest');
  const results = await lt.remediate(run.ec2, t, d.fixes);
  const copyResult = results.find((r) => r.kind === 'latest');
  return fixes.map((f, i) => {
    const r = results[d.fixes.indexOf(f)];
    // applyTemplateFixes answers every fix it is given, in order.
    if (!r) throw new Error(`no result for the fix of version ${f.sourceVersion}`);
    const latest = i === 0 ? copyResult : undefined;
    const latestCopy = latest ? latestCopyOf(latest) : undefined;
    const details = {
      ...facts.details,
      sourceVersion: f.sourceVersion,
      newVersion: r.newVersion,
      madeDefault: r.madeDefault,
      ...(r.reused ? { reusedVersion: true } : {}),
      ...(latestCopy ? { latestCopy } : {}),
    };
    const common = { ...facts, ...(f.before ? { before: f.before } : {}), desired: f.metadataOptions, violations: f.violations, details };
    const made =
      r.newVersion === undefined
        ? ''
        : r.reused
          ? `version ${r.newVersion} (made from version ${f.sourceVersion} by an earlier run)`
          : `created version ${r.newVersion} from version ${f.sourceVersion}`;
    const copied = copy && latest?.newVersion !== undefined && !latest.error ? latestCopyNote(copy, latest.newVersion) : '';
    const error = r.error ?? latest?.error;
    if (error) {
      const lost =
        latest?.error && r.newVersion !== undefined && !r.reused
          ? `; $Latest is now version ${r.newVersion} (version ${f.sourceVersion}'s content, not version ${latest.sourceVersion}'s) ` +
            `until a retry copies version ${latest.sourceVersion}`
          : '';
      return lt.describe(subject, run.settings, {
        ...common,
        outcome: 'failed',
        error,
        reason: `could not fix version ${f.sourceVersion}${made ? ` (${made}${copied})` : ''}${lost}`,
      });
    }
    const how = r.reused ? `made ${made} the default` : `${made}${r.madeDefault ? ' and made it the default' : ''}`;
    return lt.describe(subject, run.settings, {
      ...common,
      outcome: 'remediated',
      after: f.metadataOptions,
      ...(r.requestId ? { requestId: r.requestId } : {}),
      reason: `${how}${copied}`,
    });
  });
}
