// Wires the launch template module's verbs together. Shared by the event handler and the backfill.
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { AuditRecord } from '../core/audit.js';
import type { Trigger } from '../core/cloudtrail.js';
import { launchesEksNodes } from '../core/launch-template.js';
import type { LaunchTemplateTarget } from '../core/template-events.js';
import type { InstanceSettings } from '../resources/instance.js';
import * as lt from '../resources/launch-template.js';
import type { PolicyFor } from './identity.js';
import type { UsedBy } from './nodegroup-index.js';

export interface TemplateRun {
  ec2: EC2Client;
  mode: 'enforce' | 'dry-run';
  settings: InstanceSettings;
  policyFor: PolicyFor;
  usedBy: UsedBy;
}

export async function enforceTemplate(target: LaunchTemplateTarget, trigger: Trigger, run: TemplateRun): Promise<AuditRecord[]> {
  const ref = { id: target.launchTemplateId ?? target.launchTemplateName ?? 'unknown', region: target.region, account: target.account };
  const base = { trigger, mode: run.mode };
  let found: lt.FoundTemplate | undefined;
  try {
    found = await lt.find(run.ec2, {
      ...(target.launchTemplateId ? { id: target.launchTemplateId } : { name: target.launchTemplateName! }),
      region: target.region,
      account: target.account,
      ...(target.version ? { version: Number(target.version) } : {}),
    });
  } catch (err) {
    const e = err as Error;
    return [lt.describe(ref, run.settings, { ...base, outcome: 'failed', error: { name: e.name, message: e.message }, reason: 'could not describe the launch template' })];
  }
  if (!found) return [lt.describe(ref, run.settings, { ...base, outcome: 'gone', reason: 'launch template no longer exists' })];

  const t = found.template;
  const subject = { id: t.id, name: t.name, region: found.region, account: found.account, tags: lt.ownerTags(found) };
  // A custom template with no EKS tags may still be used by a node group: look that up only when needed.
  const eks = launchesEksNodes(t, found.versions);
  const usedBy = run.settings.scope === 'eks' && !eks.eks ? await run.usedBy(t.id, t.name) : [];
  const gate = await run.policyFor(eks.cluster ?? usedBy[0]?.cluster);
  const d = lt.evaluate(found, gate.policy, run.settings, usedBy, target.version ? Number(target.version) : undefined);
  const cluster = d.cluster;
  const worst = d.verdicts.find((v) => v.violations.length > 0);
  const facts = { ...base, ...(cluster ? { cluster } : {}), notes: gate.notes, details: { versions: d.verdicts, ...(gate.details ?? {}) } };

  if (d.action === 'skip') return [lt.describe(subject, run.settings, { ...facts, outcome: d.outcome, reason: d.reason, notes: [] })];
  if (d.action === 'report') {
    return [
      lt.describe(subject, run.settings, {
        ...facts,
        outcome: 'reported',
        reason: d.reason,
        ...(worst?.before ? { before: worst.before } : {}),
        violations: worst?.violations ?? [],
        details: { ...facts.details, recommendation: d.recommendation },
      }),
    ];
  }
  // One record per fixed version, so each before/after pair is exact.
  if (run.mode === 'dry-run') {
    return d.fixes.map((f) =>
      lt.describe(subject, run.settings, { ...facts, outcome: 'would-remediate', ...(f.before ? { before: f.before } : {}), desired: f.metadataOptions, after: f.metadataOptions, reason: `dry run: would create a version from ${f.sourceVersion}${f.makeDefault ? ' and make it the default' : ''}`, violations: d.verdicts.find((v) => v.version === f.sourceVersion)?.violations ?? [] }),
    );
  }
  const results = await lt.remediate(run.ec2, t, d.fixes);
  return d.fixes.map((f, i) => {
    const r = results[i]!;
    const common = { ...facts, ...(f.before ? { before: f.before } : {}), desired: f.metadataOptions, violations: d.verdicts.find((v) => v.version === f.sourceVersion)?.violations ?? [], details: { ...facts.details, sourceVersion: f.sourceVersion, newVersion: r.newVersion, madeDefault: r.madeDefault } };
    return r.error
      ? lt.describe(subject, run.settings, { ...common, outcome: 'failed', error: r.error, reason: `could not fix version ${f.sourceVersion}` })
      : lt.describe(subject, run.settings, { ...common, outcome: 'remediated', after: f.metadataOptions, ...(r.requestId ? { requestId: r.requestId } : {}), reason: `created version ${r.newVersion} from version ${f.sourceVersion}${r.madeDefault ? ' and made it the default' : ''}` });
  });
}
