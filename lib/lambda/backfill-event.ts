// The backfill function's input: by hand `{mode, regions?, scope?, clusters?, ...}`, from the sweep schedule
// `{"mode":"enforce","sweep":true,"regions":[...]}`, and from itself `{..., child}` for each Region's links.
// zod/mini, as lib/shell/config.ts: classic zod would add ~440 KB to the bundle.
import * as z from 'zod/mini';
import { REGION_NAME } from '../domain/region.js';

const EKS_NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;

/** A chain longer than this is a bug or a runaway: stop and say so. */
export const MAX_LINKS = 50;

const regionName = (msg?: string) => z.string().check(z.regex(REGION_NAME, msg ?? 'not an AWS Region name'));
const count = z.number().check(z.int(), z.gte(0));

const ChildSchema = z.strictObject({
  runId: z.string().check(z.regex(/^imds-guard-[\w-]+$/)),
  region: regionName(),
  link: z.number().check(z.int(), z.gte(0), z.lte(MAX_LINKS)),
  account: z.string().check(z.regex(/^\d{12}$/)),
  actor: z.string().check(z.minLength(1)),
  startedAt: z.string().check(z.minLength(1)),
  afterInstanceId: z.optional(z.string().check(z.regex(/^i-[0-9a-f]{8,17}$/))),
  counts: z._default(z.record(z.string(), count), {}),
  identityNotReady: z._default(z.array(z.string()), []),
  accountDefaultsCompliant: z.optional(z.boolean()),
  /** Queued instance changes so far, split by launch time (summary.ts sweepCounts). */
  queued: z.optional(z.strictObject({ queued: count, missedByEvents: count, inFlight: count })),
});

/**
 * The backfill event. `sweep: true` marks the scheduled reconciliation sweep: its summary says how many
 * nodes events missed, and it stamps the remediation queue's last-sweep tag.
 *
 * @example
 * BackfillEventSchema.parse({ mode: 'enforce', sweep: true, regions: ['eu-west-1'] });
 */
export const BackfillEventSchema = z.strictObject({
  mode: z.enum(['scan', 'enforce', 'dry-run']),
  regions: z.optional(
    z.pipe(
      z.array(regionName()).check(z.minLength(1), z.maxLength(50)),
      z.transform((r: string[]) => [...new Set(r)]),
    ),
  ),
  scope: z.optional(z.enum(['eks', 'all'])),
  clusters: z.optional(z.array(z.string().check(z.regex(EKS_NAME, 'not an EKS cluster name'))).check(z.maxLength(100))),
  rollout: z.optional(z.boolean()),
  query: z.optional(z.enum(['inventory', 'violations'])),
  sweep: z.optional(z.boolean()),
  /** Set only by the function itself on the events it sends to its children. */
  child: z.optional(ChildSchema),
});

export type BackfillEvent = z.infer<typeof BackfillEventSchema>;
export type Child = z.infer<typeof ChildSchema>;

/** What an invalid input is told. */
export const EXPECTED =
  'expected {"mode": "scan"|"enforce"|"dry-run", "regions"?: [...], "scope"?: "eks"|"all", "clusters"?: [...], "sweep"?: true}';
