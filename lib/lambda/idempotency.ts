// EventBridge delivers at least once: a duplicate of a CloudTrail event must not remediate or notify twice.
// Powertools Idempotency keyed on the CloudTrail eventID, persisted in DynamoDB:
// - a completed run's result is stored for 24 h and returned to duplicates without any EC2/SNS call;
// - a duplicate that arrives while the first run is in progress fails with IdempotencyAlreadyInProgressError,
//   so Lambda retries it later (and then gets the stored result);
// - a run that throws deletes its record, so the retry runs again;
// - the store unreachable before the run starts: the run goes ahead without it (fails open). Modify is
//   idempotent, so the price is at most a duplicate message, never a node left unfixed.
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import type { Config } from '../shell/config.js';
import { logger, metrics } from '../shell/observability.js';

/** Longer than any redelivery: EventBridge retries for up to 1 h, Lambda's async queue keeps events up to 6 h. */
const EXPIRES_AFTER_SECONDS = 24 * 60 * 60;
/** The attribute the table's TTL is set on (Powertools' default name). */
export const EXPIRY_ATTRIBUTE = 'expiration';
const EVENT_KEY = 'detail.eventID';
/** SNS delivers to Lambda at least once too: notify-slack keys on the SNS message ID. */
export const SNS_MESSAGE_KEY = 'Records[0].Sns.MessageId';

type Run<P, R> = (event: unknown, context: Context | undefined, parsed: P) => Promise<R>;

/**
 * Wraps the part of a handler that has effects. Parsing stays outside, so invalid, ignored and
 * self-caused events cost no DynamoDB call either. Without a table the run is returned unchanged.
 */
export function idempotentRun<P, R extends object>(
  config: Pick<Config, 'IDEMPOTENCY_TABLE' | 'MAX_ATTEMPTS'>,
  run: Run<P, R>,
  eventKey: string = EVENT_KEY,
): Run<P, R & { duplicate?: true }> {
  if (!config.IDEMPOTENCY_TABLE) {
    logger.warn('idempotency is off: IDEMPOTENCY_TABLE is not set, so a duplicate delivery would run twice');
    return run;
  }
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: config.IDEMPOTENCY_TABLE,
    expiryAttr: EXPIRY_ATTRIBUTE,
    awsSdkV3Client: new DynamoDBClient({ retryMode: 'adaptive', maxAttempts: config.MAX_ATTEMPTS }),
  });
  const idempotencyConfig = new IdempotencyConfig({
    eventKeyJmesPath: eventKey,
    expiresAfterSeconds: EXPIRES_AFTER_SECONDS,
    responseHook: (response, record) => {
      logger.info('duplicate event: returning the stored result', { idempotencyKey: record.idempotencyKey });
      metrics.addMetric('duplicateEvents', MetricUnit.Count, 1);
      return { ...(response as object), duplicate: true };
    },
  });
  // The tracker (one per invocation) tells a store failure before the run from one after it.
  const stored = async (event: unknown, context: Context, parsed: P, t: Tracker<R>) => {
    t.started = true;
    try {
      t.result = await run(event, context, parsed);
    } catch (err) {
      t.error = { err };
      throw err;
    }
    return storable(t.result);
  };
  const wrapped = makeIdempotent(stored, { persistenceStore, config: idempotencyConfig });
  // The Lambda context (remaining time) sets when an in-progress record of a crashed run may be taken over.
  return async (event, context, parsed) => {
    const t: Tracker<R> = { started: false };
    try {
      return await wrapped(event, context ?? fallbackContext(), parsed, t);
    } catch (err) {
      return failOpen(err, t, () => run(event, context, parsed));
    }
  };
}

interface Tracker<R> {
  started: boolean;
  result?: R;
  error?: { err: unknown };
}

const STORE_UNAVAILABLE = 'idempotency store unavailable: running without it (a duplicate message is possible)';

/** A store error before the run never stops the remediation: the run goes ahead without the store. */
async function failOpen<R>(err: unknown, t: Tracker<R>, run: () => Promise<R>): Promise<R> {
  // The run's own failure, as it threw it (also when deleting its in-progress record failed afterwards).
  if (t.error) throw t.error.err;
  const name = (err as { name?: string } | undefined)?.name ?? 'Error';
  // A duplicate of a run in progress still fails: Lambda retries it and then gets the stored result. After the
  // run, a failed save fails the invocation as before: the in-progress record holds redeliveries meanwhile.
  if (name === 'IdempotencyAlreadyInProgressError' || t.started) throw err;
  const cause = (err as { cause?: { name?: string } }).cause;
  metrics.addMetric('idempotencyUnavailable', MetricUnit.Count, 1);
  logger.warn(STORE_UNAVAILABLE, { error: { name, message: (err as Error).message, ...(cause?.name ? { cause: cause.name } : {}) } });
  return run();
}

/** DynamoDB items are at most 400 KB: a huge event keeps its counts, not its per-resource lines (those are logged). */
const MAX_STORED_CHARS = 300_000;

function storable<R extends object>(result: R): R {
  // DynamoDB's marshaller rejects undefined values: store plain JSON.
  const json = JSON.stringify(result);
  if (json.length <= MAX_STORED_CHARS || !('decisions' in result)) return JSON.parse(json) as R;
  const { decisions, ...rest } = result as R & { decisions: unknown[] };
  logger.warn('result too large to store whole: decisions omitted from the idempotency record', { decisions: decisions.length });
  return JSON.parse(JSON.stringify({ ...rest, decisions: [], decisionsOmitted: decisions.length })) as R;
}

/** Local callers without a context: a run that crashes blocks duplicates for at most 2 minutes (the stack's timeout). */
function fallbackContext(): Context {
  return { getRemainingTimeInMillis: () => 120_000 } as Context;
}
