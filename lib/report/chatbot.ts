// The Amazon Q Developer in chat applications custom notification (REFERENCE §7), for both owner
// messages and run summaries. Fields outside this shape are dropped by the service. Pure.

export interface ChatbotInput {
  /** Notification id; Q Developer dedupes on it. */
  id: string;
  title: string;
  /** Markdown lines; empty ones are left out. */
  description: string[];
  nextSteps: string[];
  keywords: string[];
  threadId: string;
  summary: string;
  additionalContext: Record<string, string>;
}

/**
 * The notification object (serialize it for the `https` body of an SNS message).
 *
 * @example
 * chatbotNotification({ id: 'e1:team', title: ':shield: imds-guard: 1 remediated', description: ['• i-1'],
 *   nextSteps: [], keywords: ['remediated'], threadId: 'imds-guard-e1', summary: 's', additionalContext: {} }).content.description;
 * // => '• i-1'
 */
export function chatbotNotification(n: ChatbotInput) {
  return {
    version: '1.0' as const,
    source: 'custom' as const,
    id: n.id,
    content: {
      textType: 'client-markdown' as const,
      title: n.title,
      description: n.description.filter(Boolean).join('\n'),
      nextSteps: n.nextSteps,
      keywords: n.keywords,
    },
    metadata: { threadId: n.threadId, summary: n.summary, additionalContext: n.additionalContext },
  };
}
