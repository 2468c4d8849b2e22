// enforce-nodegroups: CreateNodegroup / UpdateNodegroupVersion -> template fix, report or opt-in rollout.
import type { Config } from '../shell/config.js';
import { parseNodegroupEvent } from '../kinds/nodegroup/events.js';
import { enforceNodegroup } from '../kinds/nodegroup/enforce.js';
import { makeEventHandler } from './event-handler.js';

export function makeNodegroupHandler(config: Config) {
  return makeEventHandler(config, parseNodegroupEvent, async (targets, trigger, ctx) => {
    const run = {
      eks: ctx.clients.eks,
      ec2: ctx.clients.ec2,
      mode: config.MODE,
      rollout: config.ROLLOUT,
      settings: ctx.settings,
      policyFor: ctx.policyFor,
    };
    return (await Promise.all(targets.map((t) => enforceNodegroup(t, trigger, run)))).flat();
  });
}
