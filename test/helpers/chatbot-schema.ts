import { z } from 'zod';

// REFERENCE §7, as a schema: Amazon Q Developer in chat applications drops anything else silently.
export const ChatbotCustomMessage = z.strictObject({
  version: z.literal('1.0'),
  source: z.literal('custom'),
  id: z.string().optional(),
  content: z.strictObject({
    textType: z.literal('client-markdown'),
    title: z.string().min(1),
    description: z.string().min(1),
    nextSteps: z.array(z.string()).optional(),
    keywords: z.array(z.string()).optional(),
  }),
  metadata: z
    .strictObject({
      threadId: z.string(),
      summary: z.string(),
      additionalContext: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
});
