// Several accounts in one sandbox: each account has its own SandboxState (Regions, IAM roles), requests act in
// the account their SigV4 access key belongs to, STS AssumeRole hands out keys that map to the target account,
// and an optional organization groups them (Organizations ListAccounts & co.). One account and no organization
// unless SandboxOptions.accounts says otherwise, so single-account behaviour is unchanged.
import { randomBytes } from 'node:crypto';
import { SandboxState, type SandboxConfig } from './state.js';

export interface AccountSpec {
  id: string;
  name?: string;
  email?: string;
  /** Default ACTIVE. */
  status?: 'ACTIVE' | 'SUSPENDED' | 'PENDING_CLOSURE';
  /** Root (default) or an OU id (`ou-…`) for ListAccountsForParent. */
  parentId?: string;
  /** Default true: a member of the organization. False: exists, but outside it. */
  inOrganization?: boolean;
  /** IAM roles to create in the account at start (and again after reset), by name, trusting any principal. */
  roles?: string[];
}

export interface OrganizationSpec {
  /** Default `o-sandbox0001`. */
  id?: string;
  /** Default the sandbox's own account. */
  managementAccountId?: string;
  /** Default `r-sbx1`. */
  rootId?: string;
}

export interface OrgAccount {
  Id: string;
  Name: string;
  Email: string;
  Status: string;
  ParentId: string;
  JoinedTimestamp: Date;
}

/** Credentials AssumeRole issued, by access key id. */
export interface IssuedCredentials {
  accessKeyId: string;
  account: string;
  /** `arn:aws:sts::<account>:assumed-role/<role>/<session>` */
  arn: string;
  expiresAt: number;
}

/** One AssumeRole call, successful or not, for assertions. */
export interface AssumeRoleCall {
  callerAccount: string;
  callerArn: string;
  roleArn: string;
  account: string;
  sessionName: string;
  outcome: 'ok' | 'AccessDenied' | 'Throttling' | 'ValidationError';
  time: number;
}

/** `AKID<12 digits>` is a static key of that account (seeding a member account with plain SDK clients). */
const STATIC_KEY = /^AKID(\d{12})$/;

/**
 * The accounts of one sandbox.
 * @example
 * const accounts = new Accounts(state, [{ id: '444455556666', roles: ['imds-guard-member'] }], {}, config, 1);
 * accounts.forKey('AKID444455556666').accountId; // '444455556666'
 */
export class Accounts {
  private readonly states = new Map<string, SandboxState>();
  readonly issued = new Map<string, IssuedCredentials>();
  readonly assumeRoleCalls: AssumeRoleCall[] = [];
  /** Accounts whose AssumeRole answers Throttling (a fault that targets one member). */
  readonly throttledAssumeRole = new Set<string>();
  readonly organization: { id: string; managementAccountId: string; rootId: string } | undefined;
  private readonly specs: AccountSpec[];
  private readonly roleSpecs: AccountSpec[];

  constructor(
    readonly home: SandboxState,
    specs: AccountSpec[],
    org: OrganizationSpec | undefined,
    private readonly config: SandboxConfig,
    private readonly seed: number,
  ) {
    this.states.set(home.accountId, home);
    this.specs = specs.filter((s) => s.id !== home.accountId);
    this.roleSpecs = specs;
    this.organization =
      specs.length || org
        ? {
            id: org?.id ?? 'o-sandbox0001',
            managementAccountId: org?.managementAccountId ?? home.accountId,
            rootId: org?.rootId ?? 'r-sbx1',
          }
        : undefined;
    this.seedRoles();
  }

  /** State of an account, created on first use (any 12-digit id works, as AWS has them all). */
  state(accountId: string): SandboxState {
    let s = this.states.get(accountId);
    if (!s) {
      const seed = this.seed + Number(accountId.slice(-6));
      s = new SandboxState(
        accountId,
        this.home.regionNames,
        `arn:aws:sts::${accountId}:assumed-role/imds-guard-local/local`,
        this.config,
        seed,
      );
      this.states.set(accountId, s);
    }
    return s;
  }

  /** Every account's state created so far (the home account first). */
  all(): SandboxState[] {
    return [...this.states.values()];
  }

  /** The account a SigV4 access key acts in: issued by AssumeRole, a static `AKID<account>`, else the home account. */
  forKey(accessKeyId: string | undefined): SandboxState {
    if (!accessKeyId) return this.home;
    const issued = this.issued.get(accessKeyId);
    if (issued) return this.state(issued.account);
    const m = STATIC_KEY.exec(accessKeyId);
    return m ? this.state(m[1]!) : this.home;
  }

  /** GetCallerIdentity's ARN for a key. */
  callerArn(accessKeyId: string | undefined): string {
    return (accessKeyId && this.issued.get(accessKeyId)?.arn) || this.forKey(accessKeyId).callerArn;
  }

  /** The organization's accounts (home account included), in a stable order. */
  members(): OrgAccount[] {
    if (!this.organization) return [];
    const { rootId } = this.organization;
    const home: AccountSpec = { id: this.home.accountId, name: 'hub' };
    return [home, ...this.specs]
      .filter((s) => s.inOrganization !== false)
      .map((s) => ({
        Id: s.id,
        Name: s.name ?? `account-${s.id}`,
        Email: s.email ?? `aws+${s.id}@example.com`,
        Status: s.status ?? 'ACTIVE',
        ParentId: s.parentId ?? rootId,
        JoinedTimestamp: new Date(Date.UTC(2024, 0, 1)),
      }));
  }

  inOrganization(accountId: string): boolean {
    return this.members().some((a) => a.Id === accountId);
  }

  /** Creates (or replaces) a role in an account; `trustPolicy` unset trusts any principal. */
  createRole(accountId: string, name: string, trustPolicy?: string): string {
    const arn = `arn:aws:iam::${accountId}:role/${name}`;
    this.state(accountId).roles.set(name, { name, arn, trustPolicy, createDate: new Date(), roleId: `AROA${this.key(16)}` });
    return arn;
  }

  issue(account: string, arn: string, seconds: number): IssuedCredentials {
    const c = { accessKeyId: `ASIA${this.key(16)}`, account, arn, expiresAt: Date.now() + seconds * 1000 };
    this.issued.set(c.accessKeyId, c);
    return c;
  }

  key(n: number): string {
    return randomBytes(n)
      .toString('base64')
      .replace(/[^A-Z0-9]/gi, '')
      .toUpperCase()
      .padEnd(n, 'X')
      .slice(0, n);
  }

  reset(): void {
    for (const s of this.states.values()) s.reset();
    for (const id of [...this.states.keys()]) if (id !== this.home.accountId) this.states.delete(id);
    this.issued.clear();
    this.assumeRoleCalls.length = 0;
    this.throttledAssumeRole.clear();
    this.seedRoles();
  }

  private seedRoles(): void {
    for (const s of this.roleSpecs) for (const r of s.roles ?? []) this.createRole(s.id, r);
  }
}
