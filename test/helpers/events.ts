import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const EVENTS_DIR = join(import.meta.dirname, '../../events');

export function loadEvent<T = any>(name: string): T {
  return JSON.parse(readFileSync(join(EVENTS_DIR, name.endsWith('.json') ? name : `${name}.json`), 'utf8'));
}

export function allEventNames(): string[] {
  return readdirSync(EVENTS_DIR).filter((f) => f.endsWith('.json'));
}

export const clone = <T>(v: T): T => structuredClone(v);
