// Security Hub CSPM (REST-JSON), findings only: BatchImportFindings, BatchUpdateFindings and GetFindings, as far as
// imds-guard's findings out and in need. Findings are kept per Region, keyed by ProductArn + Id.
import * as sdk from '@aws-sdk/client-securityhub';
import type * as sh from '@aws-sdk/client-securityhub';
import { AwsError } from '../errors.js';
import { buildRoutes } from '../protocol/rest-json.js';
import type { Ctx } from '../runtime.js';
import type { RegionState } from '../state.js';
import { page } from './paging.js';

type Finding = Record<string, any>;

const invalid = (m: string) => new AwsError('InvalidInputException', m, 400);
const REQUIRED = ['SchemaVersion', 'Id', 'ProductArn', 'GeneratorId', 'AwsAccountId', 'Types', 'CreatedAt', 'UpdatedAt', 'Severity'];
const REQUIRED_TEXT = ['Title', 'Description'];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;
const TYPE_NAMESPACES = ['Software and Configuration Checks', 'TTPs', 'Effects', 'Unusual Behaviors', 'Sensitive Data Identifications'];
const WORKFLOW = ['NEW', 'NOTIFIED', 'RESOLVED', 'SUPPRESSED'];
// Fields the customer owns: BatchImportFindings sets them on create only (BatchUpdateFindings changes them).
const CUSTOMER_FIELDS = ['Note', 'UserDefinedFields', 'VerificationState', 'Workflow'];

const byRegion = new WeakMap<RegionState, Map<string, Finding>>();
function store(rs: RegionState): Map<string, Finding> {
  let m = byRegion.get(rs);
  if (!m) {
    m = new Map();
    byRegion.set(rs, m);
  }
  return m;
}
const keyOf = (productArn: unknown, id: unknown) => `${String(productArn)}\n${String(id)}`;

/** Why Security Hub would reject this finding, in its own words, or undefined. */
function problem(ctx: Ctx, f: Finding): string | undefined {
  const bad = (path: string, what: string) => `Finding does not adhere to Amazon Finding Format. data.${path} ${what}`;
  for (const k of REQUIRED) if (f[k] === undefined || f[k] === null) return bad(k, 'is required');
  for (const k of REQUIRED_TEXT) if (typeof f[k] !== 'string' || !f[k]) return bad(k, 'should be a non-empty string');
  if (f.SchemaVersion !== '2018-10-08') return bad('SchemaVersion', 'should be 2018-10-08');
  if (typeof f.Id !== 'string' || !f.Id || f.Id.length > 512) return bad('Id', 'should be a string of 1 to 512 characters');
  if (!/^\d{12}$/.test(String(f.AwsAccountId))) return bad('AwsAccountId', 'should be a 12-digit account id');
  if (!Array.isArray(f.Types) || !f.Types.length) return bad('Types', 'should be a non-empty array');
  if (!f.Types.every((t: unknown) => typeof t === 'string' && TYPE_NAMESPACES.includes(t.split('/')[0]!))) {
    return bad('Types', 'should be namespace/category/classifier with a known namespace');
  }
  for (const k of ['CreatedAt', 'UpdatedAt', 'FirstObservedAt', 'LastObservedAt']) {
    if (f[k] !== undefined && !(typeof f[k] === 'string' && ISO.test(f[k]))) return bad(k, 'should be an ISO 8601 date-time');
  }
  if (f.Severity.Label === undefined && f.Severity.Normalized === undefined) return bad('Severity', 'needs Label or Normalized');
  if (!Array.isArray(f.Resources) || !f.Resources.length || f.Resources.length > 32) return bad('Resources', 'should have 1 to 32 items');
  if (!f.Resources.every((r: Finding) => typeof r?.Type === 'string' && typeof r?.Id === 'string' && r.Type && r.Id)) {
    return bad('Resources', 'items need Type and Id');
  }
  const account = ctx.rt.state.accountId;
  if (f.ProductArn !== `arn:${partition(ctx.region)}:securityhub:${ctx.region}:${account}:product/${account}/default`) {
    return `Product ARN ${f.ProductArn} is not the default product of account ${account} in ${ctx.region}`;
  }
  if (f.AwsAccountId !== account) return `AwsAccountId ${f.AwsAccountId} is not the calling account ${account}`;
  return undefined;
}

function partition(region: string): string {
  return region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
}

/** An import of an existing finding: provider fields replaced, customer fields and first-seen kept, workflow reset per AWS. */
function merge(old: Finding, f: Finding): Finding {
  const next: Finding = { ...f };
  for (const k of CUSTOMER_FIELDS) {
    if (old[k] !== undefined) next[k] = old[k];
    else delete next[k];
  }
  next.CreatedAt = old.CreatedAt;
  if (old.FirstObservedAt !== undefined) next.FirstObservedAt = old.FirstObservedAt;
  const wasPassed = old.Compliance?.Status === 'PASSED' && f.Compliance?.Status !== undefined && f.Compliance.Status !== 'PASSED';
  const reactivated = old.RecordState === 'ARCHIVED' && (f.RecordState ?? 'ACTIVE') === 'ACTIVE';
  const status = old.Workflow?.Status;
  if ((wasPassed || reactivated) && (status === 'NOTIFIED' || status === 'RESOLVED')) next.Workflow = { Status: 'NEW' };
  return next;
}

function importOne(ctx: Ctx, f: Finding, now: string): sh.ImportFindingsError | undefined {
  const why = problem(ctx, f);
  if (why) return { Id: typeof f.Id === 'string' ? f.Id : '', ErrorCode: 'InvalidInput', ErrorMessage: why };
  const findings = store(ctx.rs);
  const key = keyOf(f.ProductArn, f.Id);
  const old = findings.get(key);
  const next = old ? merge(old, f) : { Workflow: { Status: 'NEW' }, RecordState: 'ACTIVE', ...structuredClone(f) };
  next.RecordState ??= 'ACTIVE';
  next.WorkflowState = next.Workflow.Status;
  next.ProcessedAt = now;
  findings.set(key, next);
  return undefined;
}

/**
 * A finding as another product imports it (AWS's own controls: EC2.8, EC2.170): stored as BatchImportFindings
 * would, without the check that only lets an account import into its own product. Tests seed with it.
 */
export function seedFinding(rs: RegionState, f: Finding): void {
  const findings = store(rs);
  const key = keyOf(f.ProductArn, f.Id);
  const old = findings.get(key);
  const next = old ? merge(old, f) : { Workflow: { Status: 'NEW' }, RecordState: 'ACTIVE', ...structuredClone(f) };
  next.WorkflowState = next.Workflow.Status;
  next.ProcessedAt = new Date().toISOString();
  findings.set(key, next);
}

function batchUpdate(ctx: Ctx, i: sh.BatchUpdateFindingsRequest): sh.BatchUpdateFindingsResponse {
  const ids = i.FindingIdentifiers ?? [];
  if (!ids.length || ids.length > 100) throw invalid('FindingIdentifiers must have 1 to 100 items');
  const status = i.Workflow?.Status;
  if (status !== undefined && !WORKFLOW.includes(status)) throw invalid(`Invalid Workflow.Status ${status}`);
  if (i.Note && !(i.Note.Text && i.Note.UpdatedBy)) throw invalid('Note needs Text and UpdatedBy');
  if (!status && !i.Note) throw invalid('Nothing to update: give Workflow or Note');
  const out: sh.BatchUpdateFindingsResponse = { ProcessedFindings: [], UnprocessedFindings: [] };
  const now = new Date().toISOString();
  for (const id of ids) {
    const f = store(ctx.rs).get(keyOf(id.ProductArn, id.Id));
    if (!f) {
      out.UnprocessedFindings!.push({ FindingIdentifier: id, ErrorCode: 'FindingNotFound', ErrorMessage: 'Finding Not Found' });
      continue;
    }
    if (status) f.Workflow = { Status: status };
    if (status) f.WorkflowState = status;
    if (i.Note) f.Note = { Text: i.Note.Text, UpdatedBy: i.Note.UpdatedBy, UpdatedAt: now };
    out.ProcessedFindings!.push({ Id: id.Id, ProductArn: id.ProductArn });
  }
  return out;
}

const FILTERS: Record<string, (f: Finding) => unknown[]> = {
  Id: (f) => [f.Id],
  ProductArn: (f) => [f.ProductArn],
  GeneratorId: (f) => [f.GeneratorId],
  AwsAccountId: (f) => [f.AwsAccountId],
  ComplianceStatus: (f) => [f.Compliance?.Status],
  WorkflowStatus: (f) => [f.Workflow?.Status],
  RecordState: (f) => [f.RecordState],
  ResourceId: (f) => (f.Resources ?? []).map((r: Finding) => r.Id),
  ResourceType: (f) => (f.Resources ?? []).map((r: Finding) => r.Type),
};

function matcher(filters: sh.AwsSecurityFindingFilters | undefined): (f: Finding) => boolean {
  const checks: ((f: Finding) => boolean)[] = [];
  for (const [name, list] of Object.entries(filters ?? {}) as [string, sh.StringFilter[] | undefined][]) {
    if (!list?.length) continue;
    const get = FILTERS[name];
    if (!get) throw new AwsError('InvalidInputException', `The imds-guard sandbox does not implement the ${name} filter`);
    for (const s of list) {
      if (s.Comparison !== 'EQUALS') throw invalid(`The imds-guard sandbox supports only EQUALS comparisons (${name}: ${s.Comparison})`);
    }
    // Values of one field are ORed, fields are ANDed (EQUALS).
    checks.push((f) => get(f).some((v) => list.some((s) => s.Value === v)));
  }
  return (f) => checks.every((c) => c(f));
}

const securityhubHandlers = {
  BatchImportFindings(ctx: Ctx, i: sh.BatchImportFindingsRequest): sh.BatchImportFindingsResponse {
    const findings = (i.Findings ?? []) as Finding[];
    if (!findings.length || findings.length > 100) throw invalid('Findings must have 1 to 100 items');
    const now = new Date().toISOString();
    const failed = findings.map((f) => importOne(ctx, f, now)).filter((e): e is sh.ImportFindingsError => e !== undefined);
    return { FailedCount: failed.length, SuccessCount: findings.length - failed.length, FailedFindings: failed };
  },
  BatchUpdateFindings: batchUpdate,
  GetFindings(ctx: Ctx, i: sh.GetFindingsRequest): sh.GetFindingsResponse {
    const max = i.MaxResults ?? 100;
    if (!(Number.isInteger(max) && max >= 1 && max <= 100)) throw invalid('MaxResults must be between 1 and 100');
    const match = matcher(i.Filters);
    const all = [...store(ctx.rs).values()]
      .filter(match)
      .sort((a, b) => (a.UpdatedAt < b.UpdatedAt ? 1 : a.UpdatedAt > b.UpdatedAt ? -1 : 0));
    const p = page(all, max, i.NextToken, `findings:${JSON.stringify(i.Filters ?? {})}`, () => invalid('Invalid NextToken'));
    return { Findings: structuredClone(p.items) as sh.AwsSecurityFinding[], ...(p.next ? { NextToken: p.next } : {}) };
  },
};

/** The REST-JSON service as sandbox/server.ts routes it (SigV4 scope `securityhub`). */
export const securityhubService = {
  name: 'SecurityHub',
  routes: buildRoutes(sdk as unknown as Record<string, unknown>),
  handlers: securityhubHandlers as Record<string, (ctx: Ctx, input: any) => unknown>,
  throttle: () => new AwsError('LimitExceededException', 'Rate exceeded', 429),
  server: () => new AwsError('InternalException', 'Internal service error', 500),
};
