// HTTP control plane under /_sandbox/, so another process (the CLI, a demo
// script) can inspect and steer a running sandbox.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultOptions } from './faults.js';
import { send } from './protocol/http.js';
import type { Runtime } from './runtime.js';
import type { SandboxState } from './state.js';
import type { ThrottleOptions } from './throttle.js';

export interface ControlDeps {
  rt: Runtime;
  url: string;
  setFaults(f: FaultOptions): void;
  reset(): void;
}

export async function control(d: ControlDeps, req: IncomingMessage, res: ServerResponse, body: string, url: URL): Promise<void> {
  const json = (status: number, v: unknown) => send(res, status, 'application/json', JSON.stringify(v, null, 1));
  const { rt } = d;
  const route = `${req.method} ${url.pathname.replace(/\/$/, '')}`;
  try {
    const input = body ? (JSON.parse(body) as unknown) : {};
    switch (route) {
      case 'GET /_sandbox/health':
        return json(200, { ok: true, url: d.url, accountId: rt.state.accountId, regions: rt.state.regionNames });
      case 'GET /_sandbox/messages':
        return json(200, rt.state.messages);
      case 'GET /_sandbox/stats':
        return json(200, rt.stats);
      case 'GET /_sandbox/faults':
        return json(200, rt.faults.get());
      case 'POST /_sandbox/faults':
        d.setFaults(input as FaultOptions);
        return json(200, rt.faults.get());
      case 'GET /_sandbox/throttle':
        return json(200, rt.throttle.options());
      case 'POST /_sandbox/throttle':
        rt.throttle.configure(input as ThrottleOptions);
        return json(200, rt.throttle.options());
      case 'POST /_sandbox/reset':
        d.reset();
        return json(200, { ok: true });
      case 'GET /_sandbox/state':
        return json(200, summary(rt.state));
      case 'GET /_sandbox/accounts':
        return json(200, {
          organization: rt.accounts?.organization,
          members: rt.accounts?.members(),
          assumeRoleCalls: rt.accounts?.assumeRoleCalls,
        });
      case 'POST /_sandbox/roles': {
        const r = input as { account?: string; name?: string; trustPolicy?: string };
        if (!r.account || !/^\d{12}$/.test(r.account) || !r.name)
          throw new Error('POST /_sandbox/roles takes {account, name, trustPolicy?}');
        return json(200, { arn: rt.accounts?.createRole(r.account, r.name, r.trustPolicy) });
      }
      default:
        return json(404, { message: `unknown control route ${route}` });
    }
  } catch (e) {
    return json(400, { message: e instanceof Error ? e.message : String(e) });
  }
}

/** JSON view of the whole state (Maps flattened). */
function summary(state: SandboxState) {
  return {
    accountId: state.accountId,
    oidcProviders: [...state.oidcProviders.keys()],
    regions: Object.fromEntries(
      state.regions().map((rs) => [
        rs.name,
        {
          metadataDefaults: rs.metadataDefaults,
          instances: [...rs.instances.values()].map((i) => ({
            id: i.id,
            state: i.state,
            metadata: i.metadata,
            tags: i.tags,
            launchTemplate: i.launchTemplate,
          })),
          launchTemplates: [...rs.launchTemplates.values()].map((lt) => ({
            id: lt.id,
            name: lt.name,
            defaultVersion: lt.defaultVersion,
            latestVersion: lt.latestVersion,
            tags: lt.tags,
          })),
          clusters: [...rs.clusters.values()].map((c) => ({
            name: c.name,
            oidcIssuer: c.oidcIssuer,
            nodegroups: [...c.nodegroups.values()].map((n) => ({
              name: n.name,
              launchTemplate: n.launchTemplate,
              eksLaunchTemplate: n.eksLaunchTemplate,
            })),
            addons: [...c.addons.keys()],
            podIdentityAssociations: c.podIdentityAssociations.size,
          })),
          topics: [...rs.topics.keys()],
        },
      ]),
    ),
  };
}
