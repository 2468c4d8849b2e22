// EKS and IAM reads for workload identity readiness (IRSA, Pod Identity) of one cluster, and of each known add-on
// installed in it (DescribeAddon's serviceAccountRoleArn, or a Pod Identity association for its service account).
// Each call counts on its own: a failed ListPodIdentityAssociations does not discard a positive IRSA answer, and a
// failed DescribeAddon leaves only that add-on unknown.
import { addonIdentities, KNOWN_ADDONS, type AddonFacts } from '../domain/addons.js';
import { errorOf } from '../domain/errors.js';
import { DescribeAddonCommand, DescribeClusterCommand, type EKSClient, type PodIdentityAssociationSummary } from '@aws-sdk/client-eks';
import { listAddons, listPodIdentityAssociations } from './eks.js';
import { ListOpenIDConnectProvidersCommand, type IAMClient } from '@aws-sdk/client-iam';
import { issuerRegistered, type IdentityReadiness } from '../domain/identity.js';

/** `<ErrorName>: <first line of the message>` (at most 200 characters), never raw SDK text. */
function errorLine(err: unknown): string {
  const e = errorOf(err);
  const line = (e.message.split(/\r?\n/)[0] ?? '').trim();
  const short = line.length > 200 ? `${line.slice(0, 199)}…` : line;
  return short ? `${e.name}: ${short}` : e.name;
}

/**
 * IRSA (issuer registered in IAM) and Pod Identity (agent add-on + associations) for one cluster. A failed
 * call leaves only its own part unknown (false / 0) and adds `<ErrorName>: <message> (<call>)` to `error`.
 *
 * @example
 * const r = await identityReadiness(eks, iam, 'payments');
 * // { cluster: 'payments', irsa: true, podIdentityAgent: false, podIdentityAssociations: 0,
 * //   error: 'AccessDeniedException: not authorized (ListPodIdentityAssociations)' }
 */
export async function identityReadiness(eks: EKSClient, iam: IAMClient, cluster: string): Promise<IdentityReadiness> {
  const [desc, addons, assocs, providers] = await Promise.allSettled([
    eks.send(new DescribeClusterCommand({ name: cluster })),
    // Every page: an add-on's association past the first 100 still counts.
    listAddons(eks, cluster),
    listPodIdentityAssociations(eks, cluster),
    iam.send(new ListOpenIDConnectProvidersCommand({})),
  ]);
  const calls = ['DescribeCluster', 'ListAddons', 'ListPodIdentityAssociations', 'ListOpenIDConnectProviders'];
  const addonFacts = await describeKnownAddons(eks, cluster, addons, assocs);
  const errors = [
    ...[desc, addons, assocs, providers].flatMap((r, n) => (r.status === 'rejected' ? [`${errorLine(r.reason)} (${calls[n]})`] : [])),
    ...Object.entries(addonFacts.described).flatMap(([name, d]) => (d.error ? [`${d.error} (DescribeAddon ${name})`] : [])),
  ];
  const issuer = desc.status === 'fulfilled' ? desc.value.cluster?.identity?.oidc?.issuer : undefined;
  const arns = providers.status === 'fulfilled' ? (providers.value.OpenIDConnectProviderList ?? []).map((p) => p.Arn ?? '') : [];
  return {
    cluster,
    irsa: issuer ? issuerRegistered(issuer, arns) : false,
    podIdentityAgent: addons.status === 'fulfilled' && addons.value.includes('eks-pod-identity-agent'),
    podIdentityAssociations: assocs.status === 'fulfilled' ? assocs.value.length : 0,
    addons: addonIdentities(addonFacts),
    ...(errors.length ? { error: errors.join('; ') } : {}),
  };
}

/** DescribeAddon for each known EKS add-on that ListAddons named, in parallel; one failure stays that add-on's. */
async function describeKnownAddons(
  eks: EKSClient,
  cluster: string,
  addons: PromiseSettledResult<string[]>,
  assocs: PromiseSettledResult<PodIdentityAssociationSummary[]>,
): Promise<AddonFacts> {
  const installed = addons.status === 'fulfilled' ? addons.value : undefined;
  const known = KNOWN_ADDONS.filter((a) => a.eksAddon && installed?.includes(a.name)).map((a) => a.name);
  // Filled in `known` order (whatever order the answers come in), so errors read the same way every time.
  const described: AddonFacts['described'] = Object.fromEntries(known.map((name) => [name, {}]));
  await Promise.all(
    known.map((name) =>
      eks.send(new DescribeAddonCommand({ clusterName: cluster, addonName: name })).then(
        (out) => (described[name] = { serviceAccountRoleArn: out.addon?.serviceAccountRoleArn }),
        (err: unknown) => (described[name] = { error: errorLine(err) }),
      ),
    ),
  );
  return {
    installed,
    described,
    associations: assocs.status === 'fulfilled' ? assocs.value : undefined,
    errors: {
      ...(addons.status === 'rejected' ? { addons: errorLine(addons.reason) } : {}),
      ...(assocs.status === 'rejected' ? { associations: errorLine(assocs.reason) } : {}),
    },
  };
}
