// What `imds-guard doctor` reads, as plain data (read.ts gathers it, checks.ts judges it). No SDK imports.

/** A read that failed: the IAM action it needed, the error's name and a one-line message. */
export interface ReadError {
  action: string;
  name: string;
  message: string;
}

/** One AWS read: its value, or why it failed. */
export type Read<T> = { value: T } | { error: ReadError };

export interface FieldSelector {
  Field?: string;
  Equals?: string[];
  NotEquals?: string[];
  StartsWith?: string[];
  NotStartsWith?: string[];
}

export interface Selectors {
  classic?: { IncludeManagementEvents?: boolean; ReadWriteType?: string }[];
  advanced?: { Name?: string; FieldSelectors?: FieldSelector[] }[];
}

export interface TrailFact {
  name: string;
  arn: string;
  homeRegion: string;
  multiRegion: boolean;
  logging: Read<boolean>;
  selectors: Read<Selectors>;
}

export interface RuleFact {
  name: string;
  state: string;
}

export type QueueRole = 'remediation' | 'remediation-dlq' | 'events-dlq' | 'failed-invocations';

interface QueueAttrs {
  visible: number;
  inFlight: number;
  delayed: number;
  /** Seconds; SQS's API does not return it (a CloudWatch metric), so only when a caller supplies it. */
  oldestAgeSeconds?: number;
}

export interface QueueFact {
  role: QueueRole;
  name: string;
  attrs: Read<QueueAttrs | 'missing'>;
}

export interface ScheduleFact {
  state: string;
  expression: string;
  /** ISO time. */
  created?: string;
}

export interface DoctorFacts {
  region: string;
  stackName: string;
  /** ISO time of the check. */
  now: string;
  trails: Read<TrailFact[]>;
  rules: Read<RuleFact[]>;
  queues: QueueFact[];
  schedule: Read<ScheduleFact | 'missing'>;
  /** The remediation queue's `imds-guard:last-sweep` tag (ISO time), undefined when absent. */
  lastSweep: Read<string | undefined>;
}

type CheckName = 'cloudtrail' | 'rules' | 'queues' | 'sweep';
export type CheckStatus = 'ok' | 'attention' | 'error';

export interface CheckResult {
  check: CheckName;
  status: CheckStatus;
  summary: string;
  details: string[];
}

export interface DoctorReport {
  schema: 'imds-guard.doctor/v1';
  region: string;
  stackName: string;
  checkedAt: string;
  status: CheckStatus;
  /** 0 healthy, 1 attention, 2 a check could not run. */
  exitCode: 0 | 1 | 2;
  checks: CheckResult[];
}

/** The `imds-guard:last-sweep` tag the sweep stamps on the remediation queue. */
export const LAST_SWEEP_TAG = 'imds-guard:last-sweep';
