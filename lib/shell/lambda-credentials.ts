// The credential chain of a function bundle. Inside Lambda the execution role's keys are always in
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN; a runtime that serves them over HTTP
// instead sets AWS_CONTAINER_CREDENTIALS_FULL_URI. The SDK's default chain adds profiles, SSO, sign-in,
// process and web identity, none of which can apply there, and they cost ~130 KB of bundle and ~8 ms
// of cold start. scripts/esbuild-plugins.cjs swaps `@aws-sdk/credential-provider-node` for this module
// in function bundles only; the CLI and the tests keep the full chain.
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { fromHttp } from '@aws-sdk/credential-provider-http';
import { chain, CredentialsProviderError } from '@smithy/core/config';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

type Init = Parameters<typeof fromEnv>[0] & Parameters<typeof fromHttp>[0];

/** Same name and call shape as the SDK's `defaultProvider`, which every client's runtime config calls. */
export const defaultProvider = (init: Init = {}): AwsCredentialIdentityProvider =>
  chain(fromEnv(init), async () => {
    if (!process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI && !process.env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) {
      throw new CredentialsProviderError(
        'imds-guard: no credentials. A function bundle reads only AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or ' +
          'AWS_CONTAINER_CREDENTIALS_FULL_URI, which Lambda sets (scripts/esbuild-plugins.cjs)',
        { tryNextLink: false, logger: init.logger },
      );
    }
    // Built on first use: fromHttp throws at once when no endpoint is set.
    return fromHttp(init)();
  });
