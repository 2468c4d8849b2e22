// The node group kind, wired: CreateNodegroup / UpdateNodegroupVersion -> template fix, report or opt-in rollout.
import type { EventKind } from '../types.js';
import { enforceNodegroup } from './enforce.js';
import { parseNodegroupEvent, type NodegroupTarget } from './events.js';

export const nodegroupKind: EventKind<NodegroupTarget> = {
  type: 'nodegroup',
  parse: parseNodegroupEvent,
  enforce: async (targets, trigger, { config, ctx }) => {
    const run = {
      eks: ctx.clients.eks,
      ec2: ctx.clients.ec2,
      mode: config.MODE,
      rollout: config.ROLLOUT,
      settings: ctx.settings,
      policyFor: ctx.policyFor,
    };
    return (await Promise.all(targets.map((t) => enforceNodegroup(t, trigger, run)))).flat();
  },
};
