// A role's trust policy, evaluated the way STS does for the cases imds-guard needs: Allow/Deny statements on
// sts:AssumeRole, AWS principals (`*`, an account id, `arn:…:root`, a role ARN; an assumed-role session matches
// its role) and the `aws:PrincipalOrgID` / `aws:PrincipalAccount` / `aws:PrincipalArn` string conditions.

export interface Caller {
  account: string;
  /** `arn:aws:sts::<account>:assumed-role/<role>/<session>` or an IAM ARN. */
  arn: string;
  /** The caller account's organization, if any. */
  orgId?: string;
}

interface Statement {
  Effect?: string;
  Action?: string | string[];
  Principal?: string | { AWS?: string | string[] };
  Condition?: Record<string, Record<string, string | string[]>>;
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The IAM role ARN behind an assumed-role session ARN (other ARNs unchanged). */
function principalArn(arn: string): string {
  const m = /^arn:(aws[\w-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(arn);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : arn;
}

function principalMatches(p: Statement['Principal'], caller: Caller): boolean {
  if (p === '*') return true;
  const role = principalArn(caller.arn);
  return list(typeof p === 'object' ? p.AWS : undefined).some(
    (x) => x === '*' || x === caller.account || x === `arn:aws:iam::${caller.account}:root` || x === role,
  );
}

function conditionsHold(c: Statement['Condition'], caller: Caller): boolean {
  const keys: Record<string, string | undefined> = {
    'aws:principalorgid': caller.orgId,
    'aws:principalaccount': caller.account,
    'aws:principalarn': principalArn(caller.arn),
  };
  for (const [op, byKey] of Object.entries(c ?? {})) {
    for (const [k, want] of Object.entries(byKey)) {
      const have = keys[k.toLowerCase()];
      const wants = list(want);
      const ok =
        op === 'StringEquals' || op === 'ArnEquals'
          ? have !== undefined && wants.includes(have)
          : op === 'StringLike' || op === 'ArnLike'
            ? have !== undefined && wants.some((w) => like(w, have))
            : false; // an operator the sandbox does not know never holds (fail closed)
      if (!ok) return false;
    }
  }
  return true;
}

const like = (pattern: string, s: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  ).test(s);

const actsOnAssume = (s: Statement) => list(s.Action).some((a) => a === 'sts:AssumeRole' || a === 'sts:*' || a === '*');

/**
 * Whether `caller` may assume a role with this trust policy (unset: anyone, as a seeding convenience).
 * @example
 * trusts(JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { AWS: '111122223333' }, Action: 'sts:AssumeRole' }] }),
 *   { account: '111122223333', arn: 'arn:aws:sts::111122223333:assumed-role/hub/s' }); // true
 */
export function trusts(policy: string | undefined, caller: Caller): boolean {
  if (policy === undefined) return true;
  let doc: { Statement?: Statement | Statement[] };
  try {
    doc = JSON.parse(policy) as typeof doc;
  } catch {
    return false;
  }
  const stmts = (Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : []).filter(
    (s) => actsOnAssume(s) && principalMatches(s.Principal, caller) && conditionsHold(s.Condition, caller),
  );
  return !stmts.some((s) => s.Effect === 'Deny') && stmts.some((s) => s.Effect === 'Allow');
}
