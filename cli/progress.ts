// On a terminal: one progress bar per Region on stderr. Elsewhere: nothing (stdout is the result).
import cliProgress from 'cli-progress';
import type { RunHooks } from '../lib/runs/run.js';

export interface Progress {
  hooks: RunHooks;
  stop(): void;
}

export const NO_PROGRESS: Progress = { hooks: {}, stop: () => undefined };

export function multibar(regions: string[], stream: NodeJS.WritableStream): Progress {
  const mb = new cliProgress.MultiBar(
    {
      stream,
      format: ' {region} |{bar}| {value}/{total} {phase}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      autopadding: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const width = Math.max(...regions.map((r) => r.length));
  const bars = new Map(regions.map((r) => [r, mb.create(1, 0, { region: r.padEnd(width), phase: 'waiting' })]));
  let stopped = false;
  // After stop() (e.g. before a confirmation prompt) the bars stay as they are.
  const bar = (r: string) => (stopped ? undefined : bars.get(r));
  return {
    hooks: {
      phase: (region, phase, total) => {
        const b = bar(region);
        if (!b) return;
        b.setTotal(Math.max(1, total ?? 1));
        b.update(0, { phase: phase === 'discover' ? 'discovering…' : phase === 'plan' ? 'evaluating' : 'applying' });
      },
      record: (region) => bar(region)?.increment(1),
      done: (region, result) => {
        const b = bar(region);
        if (!b) return;
        b.update(b.getTotal(), { phase: result.error ? `error: ${result.error.name}` : 'done' });
      },
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      mb.stop();
    },
  };
}
