// Lambda: SNS audit topic -> Slack incoming webhooks, one per owner (default webhook as fallback).
import { notifySlackFunction } from '../lib/lambda/notify-slack.js';

export const handler = notifySlackFunction();
