// SNS (awsQuery, as client-sns 3.1169 still sends). Every publish is captured
// for inspection; subscriptions are auto-confirmed and their FilterPolicy is
// evaluated so tests can see which subscribers a message would reach.
import * as sns from '@aws-sdk/client-sns';
import type { CreateTopicInput, MessageAttributeValue, PublishBatchInput, PublishInput, SubscribeInput } from '@aws-sdk/client-sns';
import { randomUUID } from 'node:crypto';
import { AwsError } from '../errors.js';
import type { Ctx } from '../runtime.js';
import type { CapturedMessage, SubscriptionRecord, TopicRecord } from '../state.js';
import { matchPolicy } from './sns-filter.js';
import type { QueryService } from './types.js';

/** SNS rejects a Subject with ASCII control characters (U+0000..U+001F). */
const hasControlCharacter = (s: string) => [...s].some((c) => c.charCodeAt(0) < 0x20);

const invalid = (msg: string) => new AwsError('InvalidParameter', `Invalid parameter: ${msg}`);

function topic(ctx: Ctx, arn: string | undefined): TopicRecord {
  if (!arn) throw invalid('TopicArn or TargetArn Reason: no value for required parameter');
  const t = ctx.rs.topics.get(arn);
  if (!t) throw new AwsError('NotFound', 'Topic does not exist', 404);
  return t;
}

interface Entry {
  Message?: string;
  Subject?: string;
  MessageStructure?: string;
  MessageAttributes?: Record<string, MessageAttributeValue>;
  MessageGroupId?: string;
}

/** Validates one message and returns what gets captured (minus id/time). */
function prepare(t: TopicRecord, e: Entry) {
  if (e.Message === undefined || e.Message === '') throw invalid('Empty message');
  if (Buffer.byteLength(e.Message) > 262144) throw invalid('Message too long');
  if (e.Subject !== undefined && (e.Subject.length > 100 || hasControlCharacter(e.Subject) || !e.Subject.trim())) throw invalid('Subject');
  if (t.name.endsWith('.fifo') && !e.MessageGroupId) throw invalid('The MessageGroupId parameter is required for FIFO topics');
  let bodies: Record<string, string> = { default: e.Message };
  if (e.MessageStructure !== undefined) {
    if (e.MessageStructure !== 'json') throw invalid(`MessageStructure`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(e.Message);
    } catch {
      throw invalid('Message Structure - JSON message body failed to parse');
    }
    if (
      typeof parsed !== 'object' ||
      parsed === null ||
      Array.isArray(parsed) ||
      typeof (parsed as Record<string, unknown>).default !== 'string'
    ) {
      throw invalid('Message Structure - No default entry in JSON message body');
    }
    if (Object.values(parsed).some((v) => typeof v !== 'string')) throw invalid('Message Structure - JSON message body failed to parse');
    bodies = parsed as Record<string, string>;
  }
  const attrs = e.MessageAttributes ?? {};
  if (Object.keys(attrs).length > 10)
    throw invalid(`Number of message attributes [${Object.keys(attrs).length}] exceeds the allowed maximum [10].`);
  const attributes: Record<string, string> = {};
  const attributeTypes: Record<string, string> = {};
  for (const [name, v] of Object.entries(attrs)) {
    const type = v.DataType ?? '';
    if (!/^(String|Number|Binary)(\..+)?$/.test(type)) {
      throw new AwsError(
        'ParameterValueInvalid',
        `The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`,
      );
    }
    // Binary arrives base64-encoded on the wire and is kept that way.
    const bin = v.BinaryValue as unknown;
    const value = type.startsWith('Binary')
      ? typeof bin === 'string'
        ? bin
        : bin
          ? Buffer.from(bin as Uint8Array).toString('base64')
          : undefined
      : v.StringValue;
    if (value === undefined || value === '') {
      throw new AwsError(
        'ParameterValueInvalid',
        `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${type}'.`,
      );
    }
    attributes[name] = value;
    attributeTypes[name] = type;
  }
  const deliveredTo = t.subscriptions.filter((s) => delivers(s, attributes, attributeTypes, bodies.default!)).map((s) => s.arn);
  return { message: e.Message, subject: e.Subject, messageStructure: e.MessageStructure, bodies, attributes, attributeTypes, deliveredTo };
}

function delivers(s: SubscriptionRecord, attributes: Record<string, string>, types: Record<string, string>, body: string): boolean {
  const fp = s.attributes.FilterPolicy;
  if (!fp) return true;
  const policy = JSON.parse(fp) as Record<string, unknown>;
  if (s.attributes.FilterPolicyScope === 'MessageBody') {
    try {
      return matchPolicy(policy, JSON.parse(body) as Record<string, unknown>);
    } catch {
      return false;
    }
  }
  const values: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(attributes)) {
    values[k] = types[k] === 'String.Array' ? JSON.parse(v) : types[k]?.startsWith('Number') ? Number(v) : v;
  }
  return matchPolicy(policy, values);
}

function capture(ctx: Ctx, t: TopicRecord, p: ReturnType<typeof prepare>): string {
  const messageId = randomUUID();
  const msg: CapturedMessage = { messageId, region: ctx.region, topicArn: t.arn, ...p, time: new Date().toISOString() };
  ctx.rt.state.messages.push(msg);
  return messageId;
}

const PROTOCOLS = ['http', 'https', 'email', 'email-json', 'sms', 'sqs', 'application', 'lambda', 'firehose'];

export const snsService: QueryService = {
  service: 'sns',
  protocol: 'query',
  xmlns: 'http://sns.amazonaws.com/doc/2010-03-31/',
  module: sns as unknown as Record<string, unknown>,
  throttleError: { code: 'Throttled', status: 429, message: 'Rate exceeded' },
  serverError: { code: 'InternalError', status: 500, message: 'Internal Error' },
  handlers: {
    CreateTopic(ctx: Ctx, input: CreateTopicInput) {
      const name = input.Name ?? '';
      if (!/^[A-Za-z0-9_-]{1,256}(\.fifo)?$/.test(name)) throw invalid('Topic Name');
      const arn = `arn:aws:sns:${ctx.region}:${ctx.rt.state.accountId}:${name}`;
      if (!ctx.rs.topics.has(arn)) {
        const tags = Object.fromEntries((input.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
        ctx.rs.topics.set(arn, { arn, name, attributes: { ...input.Attributes }, tags, subscriptions: [] });
      }
      return { TopicArn: arn };
    },

    Publish(ctx: Ctx, input: PublishInput) {
      if (input.PhoneNumber) throw invalid('PhoneNumber Reason: SMS is not supported by the sandbox');
      const t = topic(ctx, input.TopicArn ?? input.TargetArn);
      const out: { MessageId: string; SequenceNumber?: string } = { MessageId: capture(ctx, t, prepare(t, input)) };
      if (t.name.endsWith('.fifo')) out.SequenceNumber = String(ctx.rt.state.messages.length).padStart(20, '1');
      return out;
    },

    PublishBatch(ctx: Ctx, input: PublishBatchInput) {
      const t = topic(ctx, input.TopicArn);
      const entries = input.PublishBatchRequestEntries ?? [];
      if (!entries.length) throw new AwsError('EmptyBatchRequest', "The batch request doesn't contain any entries.");
      if (entries.length > 10)
        throw new AwsError('TooManyEntriesInBatchRequest', 'The batch request contains more entries than permissible.');
      if (new Set(entries.map((e) => e.Id)).size !== entries.length)
        throw new AwsError('BatchEntryIdsNotDistinct', 'Two or more batch entries in the request have the same Id.');
      const Successful: { Id?: string; MessageId: string }[] = [];
      const Failed: { Id?: string; Code: string; SenderFault: boolean; Message: string }[] = [];
      for (const e of entries) {
        try {
          Successful.push({ Id: e.Id, MessageId: capture(ctx, t, prepare(t, e)) });
        } catch (err) {
          if (!(err instanceof AwsError)) throw err;
          Failed.push({ Id: e.Id, Code: err.code, SenderFault: true, Message: err.message });
        }
      }
      return { Successful, Failed };
    },

    Subscribe(ctx: Ctx, input: SubscribeInput) {
      const t = topic(ctx, input.TopicArn);
      const protocol = input.Protocol ?? '';
      if (!PROTOCOLS.includes(protocol)) throw invalid(`Amazon SNS does not support this protocol string: ${protocol}`);
      if (!input.Endpoint) throw invalid('Endpoint Reason: no value for required parameter');
      const attributes = { ...input.Attributes };
      if (attributes.FilterPolicy !== undefined) {
        let p: unknown;
        try {
          p = JSON.parse(attributes.FilterPolicy);
        } catch {
          throw invalid('FilterPolicy: failed to parse JSON.');
        }
        if (typeof p !== 'object' || p === null || Array.isArray(p)) throw invalid('FilterPolicy: Filter policy must be a JSON object');
      }
      const existing = t.subscriptions.find((s) => s.protocol === protocol && s.endpoint === input.Endpoint);
      if (existing) return { SubscriptionArn: existing.arn };
      const sub: SubscriptionRecord = { arn: `${t.arn}:${randomUUID()}`, topicArn: t.arn, protocol, endpoint: input.Endpoint, attributes };
      t.subscriptions.push(sub);
      return { SubscriptionArn: sub.arn };
    },

    Unsubscribe(ctx: Ctx, input: { SubscriptionArn?: string }) {
      for (const t of ctx.rs.topics.values()) t.subscriptions = t.subscriptions.filter((s) => s.arn !== input.SubscriptionArn);
      return {};
    },

    ListSubscriptionsByTopic(ctx: Ctx, input: { TopicArn?: string }) {
      const t = topic(ctx, input.TopicArn);
      const owner = ctx.rt.state.accountId;
      return {
        Subscriptions: t.subscriptions.map((s) => ({
          SubscriptionArn: s.arn,
          Owner: owner,
          Protocol: s.protocol,
          Endpoint: s.endpoint,
          TopicArn: s.topicArn,
        })),
      };
    },

    ListTopics(ctx: Ctx) {
      return { Topics: [...ctx.rs.topics.keys()].map((TopicArn) => ({ TopicArn })) };
    },
  },
};
