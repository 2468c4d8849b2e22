// Statements that let remediate-instances (the queue consumer) and the backfill call
// ModifyInstanceMetadataOptions, generated because CloudFormation cannot loop over a list parameter. With scope
// `eks` IAM itself keeps imds-guard off non-EKS instances, whatever the code does.
// IAM cannot wildcard a tag KEY, so each EKS node tag gets its own statement:
//   managed node groups       eks:cluster-name
//   Karpenter, EKS Auto Mode  eks:eks-cluster-name
//   self-managed / eksctl     kubernetes.io/cluster/<name>, one statement per name in `selfManagedClusters`
// Self-managed nodes of clusters not listed there are still evaluated and reported, but the call is denied
// (a `failed` record with AccessDenied). Each statement sits in Fn::If on the ScopeIsAll condition, so the
// template shows both shapes and scope `all` leaves one statement without a condition.
'use strict';

const EKS_CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;

function remediate(sid, tagKey, region) {
  return {
    Sid: sid,
    Effect: 'Allow',
    Action: ['ec2:ModifyInstanceMetadataOptions'],
    Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:ec2:${region}:\${AWS::AccountId}:instance/*` },
    // Null false = the instance carries the tag (any value).
    ...(tagKey ? { Condition: { Null: { [`ec2:ResourceTag/${tagKey}`]: 'false' } } } : {}),
  };
}

const onlyIf = (condition, statement) => ({ 'Fn::If': [condition, statement, { Ref: 'AWS::NoValue' }] });
const unless = (condition, statement) => ({ 'Fn::If': [condition, { Ref: 'AWS::NoValue' }, statement] });

// region: `*` for both roles: the backfill reaches every Region, and the consumer drains a queue onto which a
// multi-Region backfill's sweep puts instances of other Regions. A role that only ever acts in its own Region
// would pass `${AWS::Region}`.
const statements =
  (region) =>
  async ({ resolveVariable }) => {
    const scope = await resolveVariable('param:scope');
    if (scope !== 'eks' && scope !== 'all') throw new Error(`param scope must be eks or all, not "${scope}"`);
    const clusters = String((await resolveVariable('param:selfManagedClusters')) ?? '')
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean);
    const bad = clusters.find((c) => !EKS_CLUSTER_NAME.test(c));
    if (bad) throw new Error(`param selfManagedClusters: "${bad}" is not an EKS cluster name`);
    return [
      onlyIf('ScopeIsAll', remediate('RemediateAnyInstance', undefined, region)),
      unless('ScopeIsAll', remediate('RemediateManagedNodegroupNodes', 'eks:cluster-name', region)),
      unless('ScopeIsAll', remediate('RemediateKarpenterAndAutoModeNodes', 'eks:eks-cluster-name', region)),
      ...clusters.map((c, i) => unless('ScopeIsAll', remediate(`RemediateSelfManagedNodes${i}`, `kubernetes.io/cluster/${c}`, region))),
    ];
  };

module.exports.remediateAnyRegion = statements('*');
