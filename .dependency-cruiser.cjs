// dependency-cruiser rules that keep the layout of lib/ (see README, Layout). Run: npx depcruise lib cli functions
/** @type {import('dependency-cruiser').IConfiguration} */
const SDK = '^node_modules/(@aws-sdk|@smithy|@aws-lambda-powertools|@middy)/';

module.exports = {
  forbidden: [
    {
      name: 'domain-no-sdk',
      comment: 'lib/domain is the functional core: no AWS SDK, Smithy, Powertools or middy, not even types.',
      severity: 'error',
      from: { path: '^lib/domain/' },
      to: { path: SDK },
    },
    {
      name: 'domain-stays-in-domain',
      comment: 'lib/domain imports only lib/domain and zod (its schemas): no shell, kinds, Node built-ins or other packages.',
      severity: 'error',
      from: { path: '^lib/domain/' },
      to: { pathNot: ['^lib/domain/', '^node_modules/zod/'] },
    },
    {
      name: 'no-kind-to-kind',
      comment:
        'A kind (lib/kinds/X/) does not import another kind (lib/kinds/Y/): shared code goes to lib/domain or lib/shell. ' +
        'lib/kinds/index.ts and lib/kinds/types.ts are the registry and may import kinds.',
      severity: 'error',
      from: { path: '^lib/kinds/([^/]+)/' },
      to: { path: '^lib/kinds/[^/]+/', pathNot: '^lib/kinds/$1/' },
    },
    {
      name: 'no-circular',
      comment: 'No module cycle in lib/ or cli/.',
      severity: 'error',
      from: { path: '^(lib|cli)/' },
      to: { circular: true },
    },
    {
      name: 'no-folder-cycle',
      comment: 'No folder cycle in lib/ or cli/ (lib/a imports lib/b while lib/b imports lib/a, whatever the files).',
      severity: 'error',
      scope: 'folder',
      from: { path: '^(lib|cli)/' },
      to: { path: '^(lib|cli)/', circular: true },
    },
    {
      name: 'lib-not-to-tools',
      comment: 'Product code (lib/) does not import the CLI, the sandbox or the tests.',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^(cli|sandbox|test)/' },
    },
    {
      name: 'product-not-to-dev-dep',
      comment: 'lib/, cli/ and functions/ run in Lambda or the CLI: they import only dependencies, never devDependencies (types aside).',
      severity: 'error',
      from: { path: '^(lib|cli|functions)/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'sandbox-own-ec2-limits',
      comment:
        "The sandbox sizes EC2's buckets from its own table (sandbox/ec2-buckets.ts, citing AWS's docs), never from the product's, " +
        'so one wrong constant cannot confirm itself.',
      severity: 'error',
      from: { path: '^sandbox/' },
      to: { path: '^lib/domain/ec2-limits' },
    },
    {
      name: 'no-orphans',
      comment: 'A module nothing imports and that imports nothing is dead or misplaced.',
      severity: 'error',
      from: { orphan: true, pathNot: ['\\.d\\.[cm]?ts$', '(^|/)tsconfig\\.json$'] },
      to: {},
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import resolves to a file or an installed package.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-non-package-json',
      comment: 'Every package imported is declared in package.json (not only present as a transitive dependency).',
      severity: 'error',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
  },
};
