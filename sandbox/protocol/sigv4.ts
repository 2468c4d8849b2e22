// Region and service come from the SigV4 credential scope; signatures are not verified.
export interface Scope {
  accessKeyId?: string;
  region?: string;
  service?: string;
}

const RE = /Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request/;

export function parseScope(authorization: string | undefined): Scope {
  const m = authorization ? RE.exec(authorization) : null;
  if (!m) return {};
  return { accessKeyId: m[1], region: m[3], service: m[4] };
}
