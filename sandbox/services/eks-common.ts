// Shared EKS helpers (errors, lookups, list pagination).
import { AwsError } from '../errors.js';
import type { Ctx } from '../runtime.js';
import type { ClusterRecord } from '../state.js';
import { page } from './paging.js';

export const invalidParameter = (message: string) => new AwsError('InvalidParameterException', message);

export function cluster(ctx: Ctx, name: string | undefined): ClusterRecord {
  const c = name ? ctx.rs.clusters.get(name) : undefined;
  if (!c) throw new AwsError('ResourceNotFoundException', `No cluster found for name: ${name}.`, 404, { clusterName: name });
  return c;
}

export function listPage<T>(items: T[], input: { maxResults?: number; nextToken?: string }, scope: string) {
  const max = input.maxResults ?? 100;
  if (!Number.isInteger(max) || max < 1 || max > 100) throw invalidParameter('maxResults must be between 1 and 100');
  return page(items, max, input.nextToken, scope, () => invalidParameter('The nextToken provided is invalid'));
}
