// What the demo seed does on an endpoint that lacks part of AWS (moto_server; docs/sandbox.md lists the gaps),
// so the same estate can be seeded on the sandbox and on an independent emulator. On the sandbox none of this
// changes anything: every API answers, and CreateNodegroup launches the nodes itself.
import { CreateLaunchTemplateCommand, type EC2Client, type Instance, RunInstancesCommand, type Tag } from '@aws-sdk/client-ec2';

/** The HTTP status of an SDK error, when the endpoint answered at all. */
function statusOf(e: unknown): number | undefined {
  const err = e as { $metadata?: { httpStatusCode?: number }; $response?: { statusCode?: number } };
  return err.$metadata?.httpStatusCode ?? err.$response?.statusCode;
}

/**
 * Runs an API call the endpoint may not implement: a 404 or 501 for the route (moto answers an HTML 404 for an
 * EKS route it lacks) resolves to undefined and the API's name is added to `missing`; any other error throws.
 * @example
 *   const out = await optionalApi('CreateAddon', missing, () => eks.send(new CreateAddonCommand(input)));
 */
export async function optionalApi<T>(api: string, missing: string[], call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (e) {
    const status = statusOf(e);
    if (status !== 404 && status !== 501) throw e;
    missing.push(api);
    return undefined;
  }
}

export interface NodegroupNodes {
  cluster: string;
  nodegroup: string;
  count: number;
  imageId: string;
  /** The node group's custom template; without one, an `eks-<uuid>` template is made as EKS would. */
  launchTemplate?: { id: string; version: string };
  /** The template's MetadataOptions, also sent with RunInstances: moto does not apply a template's own. */
  metadata: { HttpTokens: 'optional' | 'required'; HttpPutResponseHopLimit: number };
}

/**
 * The nodes a managed node group's Auto Scaling group launches, for an endpoint whose CreateNodegroup launches
 * none (moto): the EKS-created template when there is no custom one, and instances with the tags EKS stamps.
 * @example
 *   const { instances, launchTemplateId } = await launchNodegroupNodes(ec2, { cluster: 'payments', nodegroup: 'ng', ... });
 */
export async function launchNodegroupNodes(
  ec2: EC2Client,
  n: NodegroupNodes,
): Promise<{ instances: Instance[]; launchTemplateId: string }> {
  let lt = n.launchTemplate;
  if (!lt) {
    const made = await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: `eks-${crypto.randomUUID()}`,
        LaunchTemplateData: { ImageId: n.imageId, MetadataOptions: { ...n.metadata, HttpEndpoint: 'enabled' } },
        // The tags imds-guard finds an EKS-created template by (lib/kinds/nodegroup/nodegroup.ts).
        TagSpecifications: [
          {
            ResourceType: 'launch-template',
            Tags: [
              { Key: 'eks:cluster-name', Value: n.cluster },
              { Key: 'eks:nodegroup-name', Value: n.nodegroup },
            ],
          },
        ],
      }),
    );
    lt = { id: made.LaunchTemplate?.LaunchTemplateId ?? '', version: '1' };
  }
  const tags: Tag[] = [
    { Key: 'eks:cluster-name', Value: n.cluster },
    { Key: 'eks:nodegroup-name', Value: n.nodegroup },
    { Key: `kubernetes.io/cluster/${n.cluster}`, Value: 'owned' },
  ];
  const out = await ec2.send(
    new RunInstancesCommand({
      MinCount: n.count,
      MaxCount: n.count,
      LaunchTemplate: { LaunchTemplateId: lt.id, Version: lt.version },
      MetadataOptions: n.metadata,
      TagSpecifications: [{ ResourceType: 'instance', Tags: tags }],
    }),
  );
  return { instances: out.Instances ?? [], launchTemplateId: lt.id };
}
