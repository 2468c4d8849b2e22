// One error type for every service; each protocol renders it in its own wire shape.
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    /** Extra JSON members (REST-JSON only), e.g. `clusterName`. */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const invalidParam = (message: string): AwsError => new AwsError('InvalidParameterValue', message);
