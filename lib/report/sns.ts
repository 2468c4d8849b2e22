// SNS effect: publish rendered owner messages.
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { wellFormed } from './escape.js';
import type { OwnerMessage } from './sns-message.js';

export interface Published {
  owner: string;
  messageId?: string;
  records: number;
}

export async function publishMessages(sns: SNSClient, topicArn: string, messages: OwnerMessage[]): Promise<Published[]> {
  const out: Published[] = [];
  for (const m of messages) {
    const res = await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        // Tag text must not reach the SDK as malformed UTF-16 (URIError): sanitised again at the boundary.
        Subject: wellFormed(m.subject),
        Message: wellFormed(m.message),
        MessageStructure: 'json',
        MessageAttributes: Object.fromEntries(
          // Already capped by snsMessage (sns-message.ts) when rendered.
          Object.entries(m.attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: wellFormed(v) }]),
        ),
      }),
    );
    out.push({ owner: m.owner, ...(res.MessageId ? { messageId: res.MessageId } : {}), records: m.records.length });
  }
  return out;
}
