// The sandbox of `npm run bench:org`, in its own worker thread: the emulated AWS (SigV4 verification, XML, buckets)
// does not share the product's thread, as in real life. The bench steers and reads it over a small message channel:
// `remoteSandbox()` on the bench side, the `parentPort` loop below on the worker side.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Stats } from '../sandbox/runtime.js';
import { startSandbox, type Sandbox, type SandboxOptions } from '../sandbox/server.js';
import type { ThrottleOptions } from '../sandbox/throttle.js';

/** What the bench asks the worker; each answer echoes `id`. */
type Request =
  | { id: number; op: 'url' | 'reset' | 'stats' | 'assumeRoleCalls' | 'close' }
  | { id: number; op: 'setThrottle'; throttle: ThrottleOptions }
  | { id: number; op: 'left'; accounts: string[]; regions: string[] };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The part of the sandbox the bench uses, asynchronous since it lives in another thread. */
export interface RemoteSandbox {
  url: string;
  reset(): Promise<void>;
  setThrottle(t: ThrottleOptions): Promise<void>;
  stats(): Promise<Stats>;
  /** How many AssumeRole calls so far. */
  assumeRoleCalls(): Promise<number>;
  /** Instances in these accounts and Regions still without IMDSv2 required and hop limit 1. */
  left(accounts: string[], regions: string[]): Promise<number>;
  close(): Promise<void>;
}

/**
 * Starts the sandbox in a worker thread and returns a handle to it.
 * @example
 * const sb = await remoteSandbox({ quiet: true, accounts: [{ id: '400000000010', roles: ['imds-guard-member'] }] });
 * await sb.setThrottle({ enabled: true, timeScale: 1 });
 * await sb.close();
 */
export async function remoteSandbox(opts: SandboxOptions): Promise<RemoteSandbox> {
  // Node 20 does not hand tsx's loader to a worker: the worker registers it, then imports this file.
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: opts });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  worker.on('message', (m: { id: number; value?: unknown; error?: string }) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error !== undefined) p?.reject(new Error(m.error));
    else p?.resolve(m.value);
  });
  worker.on('error', (e) => {
    for (const p of pending.values()) p.reject(e);
  });
  const call = <T>(req: DistributiveOmit<Request, 'id'>) =>
    new Promise<T>((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ ...req, id });
    });
  const url = await call<string>({ op: 'url' });
  return {
    url,
    reset: () => call({ op: 'reset' }),
    setThrottle: (throttle) => call({ op: 'setThrottle', throttle }),
    stats: () => call({ op: 'stats' }),
    assumeRoleCalls: () => call({ op: 'assumeRoleCalls' }),
    left: (accounts, regions) => call({ op: 'left', accounts, regions }),
    close: async () => {
      await call({ op: 'close' });
      await worker.terminate();
    },
  };
}

function answer(sb: Sandbox, req: Request): unknown {
  switch (req.op) {
    case 'reset':
      return sb.reset();
    case 'setThrottle':
      return sb.setThrottle(req.throttle);
    case 'stats':
      return sb.stats();
    case 'assumeRoleCalls':
      return sb.assumeRoleCalls().length;
    case 'left':
      return req.accounts
        .flatMap((a) => req.regions.flatMap((r) => [...sb.account(a).region(r).instances.values()]))
        .filter((i) => i.metadata.HttpTokens !== 'required' || (i.metadata.HttpPutResponseHopLimit ?? 1) > 1).length;
    default:
      return sb.url;
  }
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const sb = await startSandbox(workerData as SandboxOptions);
  port.on('message', (req: Request) => {
    void (async () => {
      try {
        const value = req.op === 'close' ? await sb.close() : answer(sb, req);
        port.postMessage({ id: req.id, value });
      } catch (e) {
        port.postMessage({ id: req.id, error: e instanceof Error ? e.message : String(e) });
      }
    })();
  });
}
