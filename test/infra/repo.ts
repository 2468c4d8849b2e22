// Paths and readers for the infra tests, relative to the repository root.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const repoPath = (relative: string): string => fileURLToPath(new URL(`../../${relative}`, import.meta.url));

export const readRepoFile = (relative: string): string => readFileSync(repoPath(relative), 'utf8');

export const readJson = (relative: string): unknown => JSON.parse(readRepoFile(relative));

/** Parses every document of a YAML stream; throws on the first syntax error. */
export function readYamlDocuments(relative: string): unknown[] {
  const docs = parseAllDocuments(readRepoFile(relative));
  if (!Array.isArray(docs)) throw new Error(`${relative}: not a YAML document stream`);
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`${relative}: ${doc.errors.map((e) => e.message).join('; ')}`);
  }
  return docs.map((doc) => doc.toJS() as unknown).filter((value) => value !== null && value !== undefined);
}
