// The backfill function's input: by hand `{mode, regions?, scope?, clusters?, accounts? | org? | ou?, ...}`, and
// from the sweep schedule `{"mode":"enforce","sweep":true,"regions":[...]}`. It starts one durable execution
// (lib/lambda/backfill.ts) over its (account x Region) units.
// zod/mini, as lib/shell/config.ts: classic zod would add ~440 KB to the bundle.
import * as z from 'zod/mini';
import { REGION_NAME } from '../domain/region.js';

const EKS_NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;

/** A unit whose Region does not fit in one invocation continues in the next link; more than this is a runaway. */
export const MAX_LINKS = 50;

const regionName = (msg?: string) => z.string().check(z.regex(REGION_NAME, msg ?? 'not an AWS Region name'));

/**
 * The backfill event. `sweep: true` marks the scheduled reconciliation sweep: its summary says how many
 * nodes events missed, and it stamps the remediation queue's last-sweep tag. At most one of `accounts`,
 * `org` and `ou` chooses member accounts (each through MEMBER_ROLE_NAME); none: the function's own account.
 *
 * @example
 * BackfillEventSchema.parse({ mode: 'enforce', sweep: true, regions: ['eu-west-1'] });
 * BackfillEventSchema.parse({ mode: 'scan', org: true, concurrency: 20 });
 */
export const BackfillEventSchema = z
  .strictObject({
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
    accounts: z.optional(z.array(z.string().check(z.regex(/^\d{12}$/, 'not an AWS account id (12 digits)'))).check(z.minLength(1))),
    org: z.optional(z.literal(true)),
    ou: z.optional(z.string().check(z.regex(/^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$/, 'not an OU or root id'))),
    /** Units (account x Region) in flight at once. */
    concurrency: z.optional(z.number().check(z.int(), z.gte(1), z.lte(100))),
    /** Units that may fail before the run stops starting new ones; default a tenth of the units, at least 1. */
    toleratedFailures: z.optional(z.number().check(z.int(), z.gte(0))),
  })
  .check(
    z.refine((e) => [e.accounts, e.org, e.ou].filter((x) => x !== undefined).length <= 1, {
      message: 'give at most one of "accounts", "org" and "ou"',
    }),
  );

export type BackfillEvent = z.infer<typeof BackfillEventSchema>;

/** What an invalid input is told. */
export const EXPECTED =
  'expected {"mode": "scan"|"enforce"|"dry-run", "regions"?: [...], "scope"?: "eks"|"all", "clusters"?: [...], ' +
  '"accounts"?: ["111122223333"] | "org"?: true | "ou"?: "ou-...", "concurrency"?: n, "toleratedFailures"?: n, "sweep"?: true}';
