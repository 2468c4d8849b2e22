// `npm run sandbox -- [options]`: start the sandbox, seed the demo, print the
// environment to point the SDK/handlers at it, run until Ctrl-C.
import { parseArgs } from 'node:util';
import type { FaultKind, FaultOptions } from './faults.js';
import { seedDemo } from './scenarios/demo.js';
import { startSandbox } from './server.js';

// Local runs on Node 20: the SDK's Node-version notice is noise here (Lambda runs 22/24).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const USAGE = `usage: npm run sandbox -- [options]
  --port N            listen port (default: $PORT or a free port)
  --host H            listen address (default 127.0.0.1)
  --region R          demo Region (default eu-west-1)
  --empty             do not seed the demo estate
  --seed N            PRNG seed for ids and faults (default 1)
  --time-scale F      multiply EC2 token-bucket refill rates by F
  --no-throttle       disable EC2 throttling
  --fault OP=RATE[:KIND]   inject errors (KIND throttle|5xx, default 5xx; OP may be '*'), repeatable
  --latency MS[:JITTER]    add latency to every request
  --vanish RATE       probability an instance vanishes before ModifyInstanceMetadataOptions
  --quiet             no error logging`;

function parse() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      region: { type: 'string' },
      empty: { type: 'boolean' },
      seed: { type: 'string' },
      'time-scale': { type: 'string' },
      'no-throttle': { type: 'boolean' },
      fault: { type: 'string', multiple: true },
      latency: { type: 'string' },
      vanish: { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  return values;
}

async function main(): Promise<void> {
  const v = parse();
  if (v.help) {
    console.log(USAGE);
    return;
  }
  const faults: FaultOptions = {};
  for (const f of v.fault ?? []) {
    const m = /^([^=]+)=([\d.]+)(?::(throttle|5xx))?$/.exec(f);
    if (!m) throw new Error(`bad --fault ${f}\n${USAGE}`);
    faults.errors ??= {};
    faults.errors[m[1]!] = { rate: Number(m[2]), kind: (m[3] ?? '5xx') as FaultKind };
  }
  if (v.latency) {
    const [ms, jitter] = v.latency.split(':').map(Number);
    faults.latency = { ms, jitterMs: jitter };
  }
  if (v.vanish) faults.vanish = { rate: Number(v.vanish) };

  const region = v.region ?? 'eu-west-1';
  const sb = await startSandbox({
    port: Number(v.port ?? process.env.PORT ?? 0),
    host: v.host,
    seed: v.seed ? Number(v.seed) : undefined,
    quiet: v.quiet,
    faults,
    throttle: { enabled: !v['no-throttle'], timeScale: v['time-scale'] ? Number(v['time-scale']) : undefined },
  });

  console.log(`imds-guard sandbox listening on ${sb.url}\n`);
  for (const [k, val] of Object.entries(sb.env(region))) console.log(`export ${k}=${val}`);
  console.log(
    `\ncontrol plane: GET ${sb.url}/_sandbox/{stats,messages,state,faults,throttle}  POST ${sb.url}/_sandbox/{faults,throttle,reset}`,
  );

  if (!v.empty) {
    const info = await seedDemo({ endpoint: sb.url, region });
    console.log(`\ndemo estate in ${region} (account ${info.accountId}):`);
    console.log(
      `  clusters: payments (IRSA: ${info.oidcProviderArn.split('/').pop()}), analytics (pod identity ${info.podIdentity.associationId})`,
    );
    console.log(
      `  payments-default (EKS template ${info.nodegroups.paymentsDefault.launchTemplateId}): ${info.nodegroups.paymentsDefault.instanceIds.join(' ')}`,
    );
    console.log(
      `  analytics-custom (${info.nodegroups.analyticsCustom.launchTemplateName} ${info.nodegroups.analyticsCustom.launchTemplateId}): ${info.nodegroups.analyticsCustom.instanceIds.join(' ')}`,
    );
    console.log(`  karpenter (compliant): ${info.karpenterInstanceIds.join(' ')}`);
    console.log(`  self-managed: optional/hop1 ${info.selfManaged.optionalHop1}, required/hop2 ${info.selfManaged.requiredHop2}`);
    console.log(`  bastion (not EKS): ${info.bastionInstanceId}   exempt: ${info.exemptInstanceId}`);
    console.log(`  non-compliant EKS nodes: ${info.expectedNonCompliantNodes.length}`);
  }
  console.log('\nCtrl-C to stop.');

  const stop = () => {
    void sb.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
