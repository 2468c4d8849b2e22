// esbuild plugin: let tree shaking reach the SDK's generated schema modules.
// Since SDK v3.7xx each client keeps every shape of its service in schemas/schemas_0.js. The shapes
// use computed keys such as `{ [_xN]: _iI }`; esbuild cannot prove a computed key is side-effect free,
// so it keeps every statement and client-ec2 alone adds ~540 KB. The keys are module-level string
// constants, so they are replaced by their literal values, which makes each unused shape removable.
'use strict';
const { readFile } = require('node:fs/promises');
const { join } = require('node:path');

const CONST = /^const (_[A-Za-z0-9_]+) = ("(?:[^"\\]|\\.)*");$/gm;

const pureSchemas = {
  name: 'pure-sdk-schemas',
  setup(build) {
    build.onLoad(
      { filter: /[\\/]@aws-sdk[\\/][^\\/]+[\\/]dist-es[\\/](submodules[\\/][^\\/]+[\\/])?schemas[\\/]schemas_\d+\.js$/ },
      async (args) => {
        let code = await readFile(args.path, 'utf8');
        const values = new Map([...code.matchAll(CONST)].map((m) => [m[1], m[2]]));
        code = code.replace(/\[(_[A-Za-z0-9_]+)\]:/g, (whole, name) => (values.has(name) ? `${values.get(name)}:` : whole));
        return { contents: code, loader: 'js' };
      },
    );
  },
};

// Function bundles only: swap the SDK's default credential chain for the Lambda one
// (lib/shell/lambda-credentials.ts says why). Every client's runtime config imports it by this name.
const lambdaCredentials = {
  name: 'lambda-credentials',
  setup(build) {
    const target = join(__dirname, '..', 'lib', 'shell', 'lambda-credentials.ts');
    build.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, () => ({ path: target }));
  },
};

// Function bundles only: the SDK's protocol layer imports its event-stream codec on demand (about 19 KB
// minified, with what it pulls in), and esbuild bundles what is imported on demand too. Only a client with
// streaming operations needs it, and it imports the codec's config statically (Lambda's, in the backfill),
// so the on-demand import alone resolves to a module that says so if it is ever reached.
const noEventStreams = {
  name: 'no-event-streams',
  setup(build) {
    build.onResolve({ filter: /^@smithy\/core\/event-streams$/ }, (args) =>
      args.kind === 'dynamic-import' ? { path: 'no-event-streams', namespace: 'imds-guard' } : undefined,
    );
    build.onLoad({ filter: /^no-event-streams$/, namespace: 'imds-guard' }, () => ({
      contents:
        'const no = () => { throw new Error("imds-guard bundles leave out the SDK event-stream codec: no function streams"); };' +
        'export const EventStreamSerde = no; export const eventStreamSerdeProvider = no;',
      loader: 'js',
    }));
  },
};

// serverless-esbuild `require`s this file and takes its exports as the plugin list: it packages functions.
module.exports = [pureSchemas, lambdaCredentials, noEventStreams];
module.exports.pureSchemas = pureSchemas;
module.exports.lambdaCredentials = lambdaCredentials;
module.exports.noEventStreams = noEventStreams;
