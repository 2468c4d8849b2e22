// Named profiles in the shared config files, so `--profile nosuch` fails before any call with what exists.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

type Env = Record<string, string | undefined>;

/** The shared config and credentials files the SDK reads, in that order. */
function profileFiles(env: Env): [config: string, credentials: string] {
  const home = env.HOME ?? homedir();
  return [env.AWS_CONFIG_FILE ?? join(home, '.aws', 'config'), env.AWS_SHARED_CREDENTIALS_FILE ?? join(home, '.aws', 'credentials')];
}

function sections(file: string, config: boolean): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const names: string[] = [];
  for (const m of text.matchAll(/^\s*\[([^\]]+)\]/gm)) {
    const s = (m[1] ?? '').trim();
    if (!config) names.push(s);
    else if (s === 'default') names.push(s);
    else if (s.startsWith('profile ')) names.push(s.slice('profile '.length).trim());
  }
  return names;
}

/**
 * Every profile name the shared files define.
 * @example
 * listProfiles({ AWS_CONFIG_FILE: '/tmp/config', AWS_SHARED_CREDENTIALS_FILE: '/tmp/none' }); // ['default', 'dev']
 */
export function listProfiles(env: Env): string[] {
  const [config, credentials] = profileFiles(env);
  return [...new Set([...sections(config, true), ...sections(credentials, false)])];
}

/**
 * Why a profile cannot be used (not defined in either file), or undefined when it is defined.
 * @example
 * missingProfile('nosuch', '--profile', env); // 'no AWS credentials found: profile "nosuch" (--profile) is not in …'
 */
export function missingProfile(name: string, from: string, env: Env): string | undefined {
  const known = listProfiles(env);
  if (known.includes(name)) return undefined;
  const [config, credentials] = profileFiles(env);
  const there = known.length ? `profiles there: ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', …' : ''}` : 'no profiles there';
  return (
    `no AWS credentials found: profile "${name}" (${from}) is not in ${config} or ${credentials} (${there}); ` +
    'list them with `aws configure list-profiles`; for a local run start the sandbox with `npm run sandbox` instead'
  );
}
