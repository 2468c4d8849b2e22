import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readRepoFile, repoPath } from './repo.js';

const SCRIPT = repoPath('infra/node-bootstrap/imds-block.sh');
const RULE = '-I FORWARD 1 -i eni+ -d 169.254.169.254/32 -j DROP';
const STATE_LINE = 'FORWARD -i eni+ -d 169.254.169.254/32 -j DROP';

/** A scratch node: fake iptables/systemctl with state files, and target dirs. */
interface Sandbox {
  dir: string;
  env: NodeJS.ProcessEnv;
  iptablesState: string;
  iptablesLog: string;
  systemctlLog: string;
  unitPath: string;
  scriptDest: string;
}

function makeSandbox(): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'imds-block-'));
  for (const fake of ['fake-iptables.sh', 'fake-systemctl.sh']) {
    const target = join(dir, fake);
    copyFileSync(repoPath(`test/infra/fixtures/${fake}`), target);
    chmodSync(target, 0o755);
  }
  const sandbox: Sandbox = {
    dir,
    iptablesState: join(dir, 'iptables.state'),
    iptablesLog: join(dir, 'iptables.log'),
    systemctlLog: join(dir, 'systemctl.log'),
    unitPath: join(dir, 'systemd', 'imds-block.service'),
    scriptDest: join(dir, 'sbin', 'imds-block.sh'),
    env: {},
  };
  writeFileSync(sandbox.iptablesState, '');
  sandbox.env = {
    PATH: process.env.PATH,
    IPTABLES: join(dir, 'fake-iptables.sh'),
    SYSTEMCTL: join(dir, 'fake-systemctl.sh'),
    SYSTEMD_DIR: join(dir, 'systemd'),
    SCRIPT_DEST: sandbox.scriptDest,
    FAKE_IPTABLES_STATE: sandbox.iptablesState,
    FAKE_IPTABLES_LOG: sandbox.iptablesLog,
    FAKE_SYSTEMCTL_STATE: join(dir, 'systemctl.state'),
    FAKE_SYSTEMCTL_LOG: sandbox.systemctlLog,
  };
  return sandbox;
}

function run(sandbox: Sandbox, args: string[] = [], extraEnv: NodeJS.ProcessEnv = {}) {
  const result = spawnSync('bash', [SCRIPT, ...args], {
    env: { ...sandbox.env, ...extraEnv },
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const readLines = (path: string): string[] =>
  existsSync(path)
    ? readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
    : [];
const inserts = (sandbox: Sandbox) => readLines(sandbox.iptablesLog).filter((l) => / -I /.test(` ${l}`));

describe('imds-block.sh: static checks', () => {
  it.each(['infra/node-bootstrap/imds-block.sh', 'test/infra/fixtures/fake-iptables.sh', 'test/infra/fixtures/fake-systemctl.sh'])(
    '%s passes bash -n',
    (file) => {
      const result = spawnSync('bash', ['-n', repoPath(file)], { encoding: 'utf8' });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
    },
  );

  it('is strict and executable', () => {
    const text = readRepoFile('infra/node-bootstrap/imds-block.sh');
    expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    expect(text).toMatch(/^set -euo pipefail$/m);
    expect(statSync(SCRIPT).mode & 0o111).not.toBe(0);
  });
});

describe('imds-block.sh: behaviour with a fake iptables', () => {
  let sandbox: Sandbox;
  beforeEach(() => {
    sandbox = makeSandbox();
  });
  afterEach(() => {
    rmSync(sandbox.dir, { recursive: true, force: true });
  });

  it.each([
    ['--dry-run flag', ['--dry-run'], {}],
    ['DRY_RUN=1', [], { DRY_RUN: '1' }],
  ])('dry run (%s) prints the insert and changes nothing', (_label, args, env) => {
    const result = run(sandbox, args, env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`[dry-run] ${sandbox.env.IPTABLES} -w 5 ${RULE}`);
    expect(result.stdout).toContain(`[dry-run] write ${sandbox.unitPath}`);
    expect(result.stdout).toMatch(/\[dry-run\] \S+fake-systemctl\.sh enable imds-block\.service/);
    // Only the read-only check reached iptables; nothing was written anywhere.
    expect(readLines(sandbox.iptablesLog)).toEqual([`-w 5 -C ${STATE_LINE}`]);
    expect(readLines(sandbox.iptablesState)).toEqual([]);
    expect(readLines(sandbox.systemctlLog)).toEqual(['is-enabled --quiet imds-block.service']);
    expect(existsSync(sandbox.unitPath)).toBe(false);
    expect(existsSync(sandbox.scriptDest)).toBe(false);
  });

  it('is idempotent: the second run against the same state does not insert again', () => {
    const first = run(sandbox, ['--apply-only']);
    expect(first.code).toBe(0);
    expect(inserts(sandbox)).toEqual([`-w 5 ${RULE}`]);
    expect(readLines(sandbox.iptablesState)).toEqual([STATE_LINE]);

    const second = run(sandbox, ['--apply-only']);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('rule already present');
    expect(inserts(sandbox)).toHaveLength(1);
    expect(readLines(sandbox.iptablesState)).toEqual([STATE_LINE]);

    // A dry run against the same state has nothing to insert either.
    const dry = run(sandbox, ['--dry-run', '--apply-only']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).not.toContain('-I FORWARD');
    expect(dry.stdout).toBe('');
  });

  it('inserts above existing FORWARD rules (position 1)', () => {
    writeFileSync(sandbox.iptablesState, 'FORWARD -j KUBE-FORWARD\n');
    expect(run(sandbox, ['--apply-only']).code).toBe(0);
    expect(readLines(sandbox.iptablesState)).toEqual([STATE_LINE, 'FORWARD -j KUBE-FORWARD']);
  });

  it('installs the script and the systemd unit once, and enables it once', () => {
    expect(run(sandbox).code).toBe(0);
    const unit = readFileSync(sandbox.unitPath, 'utf8');
    expect(unit).toContain('Type=oneshot');
    expect(unit).toContain('RemainAfterExit=yes');
    expect(unit).toMatch(/^After=.*network-online\.target.*containerd\.service/m);
    expect(unit).toContain('Before=kubelet.service');
    expect(unit).toContain(`ExecStart=${sandbox.scriptDest} --apply-only`);
    expect(unit).toContain('Environment=IMDS_IFACE=eni+');
    expect(unit).toContain('WantedBy=multi-user.target');
    expect(readFileSync(sandbox.scriptDest, 'utf8')).toBe(readFileSync(SCRIPT, 'utf8'));
    expect(statSync(sandbox.scriptDest).mode & 0o777).toBe(0o755);

    const unitMtime = statSync(sandbox.unitPath).mtimeMs;
    expect(run(sandbox).code).toBe(0);
    expect(statSync(sandbox.unitPath).mtimeMs).toBe(unitMtime);
    const calls = readLines(sandbox.systemctlLog);
    expect(calls.filter((c) => c === 'daemon-reload')).toHaveLength(1);
    expect(calls.filter((c) => c === 'enable imds-block.service')).toHaveLength(1);
    expect(inserts(sandbox)).toHaveLength(1);
  });

  it('the installed copy, run the way the unit runs it, changes nothing further', () => {
    expect(run(sandbox).code).toBe(0);
    const result = spawnSync('bash', [sandbox.scriptDest, '--apply-only'], { env: sandbox.env, encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(inserts(sandbox)).toHaveLength(1);
  });

  it('honours a custom interface pattern in the rule and in the unit', () => {
    expect(run(sandbox, [], { IMDS_IFACE: 'cali+' }).code).toBe(0);
    expect(readLines(sandbox.iptablesState)).toEqual(['FORWARD -i cali+ -d 169.254.169.254/32 -j DROP']);
    expect(readFileSync(sandbox.unitPath, 'utf8')).toContain('Environment=IMDS_IFACE=cali+');
  });

  it.each(['eni+; rm -rf /', 'eni +', 'eni*', 'a-very-long-interface-name+'])(
    'rejects the interface pattern %j before touching iptables',
    (iface) => {
      const result = run(sandbox, [], { IMDS_IFACE: iface });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('IMDS_IFACE');
      expect(readLines(sandbox.iptablesLog)).toEqual([]);
    },
  );

  it('fails, without inserting, when iptables -C fails for another reason than "absent"', () => {
    const result = run(sandbox, ['--apply-only'], { FAKE_IPTABLES_CHECK_EXIT: '4' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('exit code 4');
    expect(inserts(sandbox)).toEqual([]);
  });

  it('fails when iptables is missing outside dry-run', () => {
    const result = run(sandbox, ['--apply-only'], { IPTABLES: join(sandbox.dir, 'no-such-iptables') });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('iptables command not found');
  });

  it('rejects unknown arguments', () => {
    const result = run(sandbox, ['--force']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('unknown argument: --force');
    expect(readLines(sandbox.iptablesLog)).toEqual([]);
  });
});
