// EC2 tag helpers.
import type { Tag, TagSpecification } from '@aws-sdk/client-ec2';
import { invalidParam } from '../errors.js';
import type { Tags } from '../state.js';

export function tagList(tags: Tags): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

export function tagsFromSpecs(specs: TagSpecification[] | undefined, resourceType: string): Tags {
  const out: Tags = {};
  for (const s of specs ?? []) {
    if (s.ResourceType !== resourceType) continue;
    for (const t of s.Tags ?? []) if (t.Key) out[t.Key] = t.Value ?? '';
  }
  return out;
}

/** `aws:` keys are reserved for AWS itself (templates, Auto Scaling). */
export function checkUserTagKeys(tags: { Key?: string }[]): void {
  for (const t of tags) {
    if (t.Key?.toLowerCase().startsWith('aws:')) {
      throw invalidParam(`Tag keys starting with 'aws:' are reserved for internal use`);
    }
  }
}
