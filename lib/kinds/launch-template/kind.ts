// The launch template kind, wired: CreateLaunchTemplate / CreateLaunchTemplateVersion / ModifyLaunchTemplate.
import type { EventKind } from '../types.js';
import { enforceTemplate } from './enforce.js';
import { parseTemplateEvent, type LaunchTemplateTarget } from './events.js';

export const launchTemplateKind: EventKind<LaunchTemplateTarget> = {
  type: 'launch-template',
  parse: parseTemplateEvent,
  enforce: async (targets, trigger, { config, ctx }) => {
    const run = { ec2: ctx.clients.ec2, mode: config.MODE, settings: ctx.settings, policyFor: ctx.policyFor, usedBy: ctx.usedBy };
    return (await Promise.all(targets.map((t) => enforceTemplate(t, trigger, run)))).flat();
  },
};
