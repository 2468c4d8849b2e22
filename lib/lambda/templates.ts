// enforce-launch-templates: CreateLaunchTemplate / CreateLaunchTemplateVersion / ModifyLaunchTemplate.
import type { Config } from '../shell/config.js';
import { parseTemplateEvent } from '../kinds/launch-template/events.js';
import { nodegroupIndex } from '../shell/nodegroup-index.js';
import { enforceTemplate } from '../kinds/launch-template/enforce.js';
import { makeEventHandler } from './event-handler.js';

export function makeTemplateHandler(config: Config) {
  return makeEventHandler(config, parseTemplateEvent, async (targets, trigger, ctx) => {
    const run = {
      ec2: ctx.clients.ec2,
      mode: config.MODE,
      settings: ctx.settings,
      policyFor: ctx.policyFor,
      usedBy: nodegroupIndex(ctx.clients.eks),
    };
    return (await Promise.all(targets.map((t) => enforceTemplate(t, trigger, run)))).flat();
  });
}
