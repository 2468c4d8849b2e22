import { describe, expect, it } from 'vitest';
import { CelEvalError, CelUnsupportedError, evalCel, parseCel, withPolicyVariables } from './cel-subset.js';
import { readRepoFile, readYamlDocuments } from './repo.js';

const IMDS_V4 = '169.254.169.254/32';
const IMDS_V6 = 'fd00:ec2::254/128';

interface NetworkPolicy {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: {
    podSelector: Record<string, unknown>;
    policyTypes: string[];
    egress?: Array<{ to?: Array<Record<string, unknown>>; ports?: unknown[] }>;
  };
}

describe('networkpolicy-deny-imds.yaml', () => {
  const docs = readYamlDocuments('infra/kubernetes/networkpolicy-deny-imds.yaml') as NetworkPolicy[];
  const [deny, allow] = docs;

  it('holds exactly the two NetworkPolicies, deny first, with no hard-coded namespace', () => {
    expect(docs.map((d) => `${d.apiVersion}/${d.kind}/${d.metadata.name}`)).toEqual([
      'networking.k8s.io/v1/NetworkPolicy/default-deny-egress',
      'networking.k8s.io/v1/NetworkPolicy/allow-egress-except-imds',
    ]);
    for (const doc of docs) expect(doc.metadata.namespace).toBeUndefined();
  });

  it('default-deny-egress selects every pod and allows no egress', () => {
    expect(deny?.spec.podSelector).toEqual({});
    expect(deny?.spec.policyTypes).toEqual(['Egress']);
    expect(deny?.spec.egress ?? []).toEqual([]);
  });

  it('allow-egress-except-imds allows everything but the IMDS addresses', () => {
    expect(allow?.spec.podSelector).toEqual({});
    expect(allow?.spec.policyTypes).toEqual(['Egress']);
    const peers = (allow?.spec.egress ?? []).flatMap((rule) => {
      expect(rule.ports, 'no port restriction: all ports except to IMDS').toBeUndefined();
      return rule.to ?? [];
    });
    const ipBlocks = peers.map((p) => p.ipBlock as { cidr: string; except?: string[] } | undefined).filter((b) => b !== undefined);
    expect(ipBlocks).toEqual([
      { cidr: '0.0.0.0/0', except: [IMDS_V4] },
      { cidr: '::/0', except: [IMDS_V6] },
    ]);
    // In-cluster pods (CoreDNS included) for engines that never match pod IPs against ipBlock.
    expect(peers).toContainEqual({ namespaceSelector: {} });
  });

  it('never allows the whole link-local range away (Pod Identity agent must stay reachable)', () => {
    const text = readRepoFile('infra/kubernetes/networkpolicy-deny-imds.yaml');
    expect(text).not.toMatch(/except:\s*\n\s*-\s*169\.254\.0\.0\/16/);
  });
});

interface Vap {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    failurePolicy: string;
    paramKind?: unknown;
    matchConstraints: { resourceRules: Array<{ apiGroups: string[]; operations: string[]; resources: string[] }> };
    variables: Array<{ name: string; expression: string }>;
    validations: Array<{ expression: string; messageExpression?: string; reason?: string }>;
  };
}
interface VapBinding {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    policyName: string;
    paramRef?: unknown;
    validationActions: string[];
    matchResources: {
      namespaceSelector: { matchExpressions: Array<{ key: string; operator: string; values?: string[] }> };
    };
  };
}

describe('validating-admission-policy-hostnetwork.yaml', () => {
  const docs = readYamlDocuments('infra/kubernetes/validating-admission-policy-hostnetwork.yaml');
  const policy = docs.find((d) => (d as Vap).kind === 'ValidatingAdmissionPolicy') as Vap;
  const binding = docs.find((d) => (d as VapBinding).kind === 'ValidatingAdmissionPolicyBinding') as VapBinding;
  const validation = policy.spec.validations[0];
  const allExpressions = [
    ...policy.spec.variables.map((v) => v.expression),
    ...policy.spec.validations.flatMap((v) => [v.expression, v.messageExpression ?? 'true']),
  ];

  it('is a v1 policy plus its binding, failing closed', () => {
    expect(docs).toHaveLength(2);
    expect(policy.apiVersion).toBe('admissionregistration.k8s.io/v1');
    expect(binding.apiVersion).toBe('admissionregistration.k8s.io/v1');
    expect(policy.spec.failurePolicy).toBe('Fail');
    expect(policy.spec.validations).toHaveLength(1);
  });

  it('the binding references the policy and denies', () => {
    expect(binding.spec.policyName).toBe(policy.metadata.name);
    expect(binding.spec.validationActions).toEqual(['Deny']);
  });

  it('uses no params, so a missing ConfigMap can neither block every pod nor fail open', () => {
    expect(policy.spec.paramKind).toBeUndefined();
    expect(binding.spec.paramRef).toBeUndefined();
  });

  it('matches Pods and the pod templates of every workload kind, on CREATE and UPDATE', () => {
    const resources = policy.spec.matchConstraints.resourceRules.flatMap((r) => {
      expect(r.operations.sort()).toEqual(['CREATE', 'UPDATE']);
      return r.resources;
    });
    expect(resources.sort()).toEqual(['cronjobs', 'daemonsets', 'deployments', 'jobs', 'pods', 'replicasets', 'statefulsets'].sort());
  });

  it('the validation checks hostNetwork against the allowlist, which includes kube-system', () => {
    const hostNetwork = policy.spec.variables.find((v) => v.name === 'hostNetwork');
    expect(hostNetwork?.expression).toContain('spec.hostNetwork');
    expect(hostNetwork?.expression).toContain('spec.template.spec.hostNetwork');
    expect(hostNetwork?.expression).toContain('spec.jobTemplate.spec.template.spec.hostNetwork');
    expect(validation?.expression).toContain('variables.hostNetwork');
    expect(validation?.expression).toContain('variables.allowedNamespaces');
    const allowlist = policy.spec.variables.find((v) => v.name === 'allowedNamespaces');
    expect(evalCel(allowlist?.expression ?? '', {})).toContain('kube-system');
  });

  it('the binding exempts kube-system by its immutable name label', () => {
    expect(binding.spec.matchResources.namespaceSelector.matchExpressions).toContainEqual({
      key: 'kubernetes.io/metadata.name',
      operator: 'NotIn',
      values: ['kube-system'],
    });
  });

  it('every expression parses and references only declared variables', () => {
    const declared = new Set(policy.spec.variables.map((v) => v.name));
    for (const expression of allExpressions) {
      expect(() => parseCel(expression), expression).not.toThrow();
      for (const [, name] of expression.matchAll(/variables\.([A-Za-z_][A-Za-z0-9_]*)/g)) {
        expect(declared.has(name ?? ''), `undeclared variable ${name}`).toBe(true);
      }
    }
  });

  describe('decisions (evaluated with the test CEL subset)', () => {
    const GROUPS: Record<string, string> = {
      Pod: '',
      Deployment: 'apps',
      DaemonSet: 'apps',
      StatefulSet: 'apps',
      ReplicaSet: 'apps',
      Job: 'batch',
      CronJob: 'batch',
    };
    const podSpec = (hostNetwork?: boolean) => ({
      containers: [{ name: 'app', image: 'app:1' }],
      ...(hostNetwork === undefined ? {} : { hostNetwork }),
    });
    const objectOf = (kind: string, hostNetwork?: boolean): Record<string, unknown> => {
      const spec = podSpec(hostNetwork);
      if (kind === 'Pod') return { kind, spec };
      if (kind === 'CronJob') return { kind, spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec } } } } };
      return { kind, spec: { template: { metadata: {}, spec } } };
    };
    const admit = (opts: {
      kind: string;
      namespace: string;
      hostNetwork?: boolean;
      operation?: 'CREATE' | 'UPDATE';
      oldHostNetwork?: boolean;
    }) => {
      const operation = opts.operation ?? 'CREATE';
      const env = withPolicyVariables(policy.spec.variables, {
        request: {
          kind: { group: GROUPS[opts.kind], version: 'v1', kind: opts.kind },
          namespace: opts.namespace,
          operation,
        },
        object: objectOf(opts.kind, opts.hostNetwork),
        oldObject: operation === 'UPDATE' ? objectOf(opts.kind, opts.oldHostNetwork) : null,
      });
      const allowed = evalCel(validation?.expression ?? '', env);
      const message = allowed ? undefined : evalCel(validation?.messageExpression ?? "''", env);
      return { allowed, message };
    };

    it.each(Object.keys(GROUPS))('%s with hostNetwork: true outside the allowlist is denied', (kind) => {
      const { allowed, message } = admit({ kind, namespace: 'team-a', hostNetwork: true });
      expect(allowed).toBe(false);
      expect(message).toContain('namespace team-a');
      expect(message).toContain('kube-system');
    });

    it.each(Object.keys(GROUPS))('%s without hostNetwork, or with hostNetwork: false, is allowed', (kind) => {
      expect(admit({ kind, namespace: 'team-a' }).allowed).toBe(true);
      expect(admit({ kind, namespace: 'team-a', hostNetwork: false }).allowed).toBe(true);
    });

    it('hostNetwork in an allowlisted namespace is allowed', () => {
      expect(admit({ kind: 'DaemonSet', namespace: 'kube-system', hostNetwork: true }).allowed).toBe(true);
    });

    it('an UPDATE that adds hostNetwork is denied; one on an object that already had it is allowed', () => {
      expect(
        admit({ kind: 'Deployment', namespace: 'team-a', operation: 'UPDATE', hostNetwork: true, oldHostNetwork: false }).allowed,
      ).toBe(false);
      expect(admit({ kind: 'Deployment', namespace: 'team-a', operation: 'UPDATE', hostNetwork: true, oldHostNetwork: true }).allowed).toBe(
        true,
      );
    });
  });

  it('the test CEL subset rejects what it cannot evaluate instead of guessing', () => {
    expect(() => evalCel('[1].exists(x, x > 0)', {})).toThrow(CelUnsupportedError);
    expect(() => evalCel('object.spec.missing', { object: { spec: {} } })).toThrow(CelEvalError);
    expect(evalCel('has(object.spec.missing) || true', { object: { spec: {} } })).toBe(true);
    expect(evalCel('object.spec.missing || true', { object: { spec: {} } })).toBe(true);
  });
});
