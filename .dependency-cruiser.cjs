/**
 * Import rules of keyfleet: dependencies point inward. The core knows no framework, store, SSH library or npm
 * package; adapters depend on the core and never on each other; only the composition root (src/app) sees all.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-core-to-outside',
      comment: 'The core imports only itself, node: builtins and the pure shared modules of src/common.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { pathNot: ['^src/core/', '^src/common/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'common-is-pure',
      comment: 'src/common runs in the core, every adapter and the browser: it imports nothing but itself.',
      severity: 'error',
      from: { path: '^src/common/' },
      to: { pathNot: '^src/common/' },
    },
    {
      name: 'no-core-to-npm',
      comment: 'No npm package in the core: HTTP, SQL and SSH libraries belong to adapters.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'no-store-to-adapters',
      severity: 'error',
      from: { path: '^src/store/' },
      to: { path: '^src/(api|backends|app|cli|crypto|console)/' },
    },
    {
      name: 'no-backend-to-other-adapters',
      severity: 'error',
      from: { path: '^src/backends/' },
      to: { path: '^src/(api|store|app|cli|console)/' },
    },
    {
      name: 'no-backend-to-backend',
      comment: 'The simulator and the real-host backend share only the core.',
      severity: 'error',
      from: { path: '^src/backends/([^/]+)/' },
      to: { path: '^src/backends/', pathNot: '^src/backends/$1/' },
    },
    {
      name: 'no-api-to-infrastructure',
      comment: 'Faces talk to the core only.',
      severity: 'error',
      from: { path: '^src/api/' },
      to: { path: '^src/(store|backends|app|cli|crypto|console)/' },
    },
    {
      name: 'no-dialect-to-dialect',
      comment: 'The ECS, KPS and native faces never import each other; shared HTTP plumbing lives in api/http.',
      severity: 'error',
      from: { path: '^src/api/(ecs|kps|native)/' },
      to: { path: '^src/api/(ecs|kps|native)/', pathNot: '^src/api/$1/' },
    },
    {
      name: 'no-crypto-to-adapters',
      severity: 'error',
      from: { path: '^src/crypto/' },
      to: { path: '^src/(api|store|backends|app|cli|console)/' },
    },
    {
      name: 'cli-client-only',
      comment: 'CLI resource commands are HTTP clients of the native API; only `serve` reaches the composition root.',
      severity: 'error',
      from: { path: '^src/cli/', pathNot: '^src/cli/commands/serve\\.ts$' },
      // Except the inventory parser and the event-stream format (pure modules with no imports): one of each for both
      // clients, CLI and console.
      to: { path: '^src/(core|store|backends|api|crypto|app)/', pathNot: '^src/api/native/(inventory|event-stream)\\.ts$' },
    },
    {
      name: 'console-types-only',
      comment: 'The web console sees the native API through its published types only.',
      severity: 'error',
      from: { path: '^src/console/' },
      // Plus the inventory parser and the event-stream format (pure modules with no imports), shared with the CLI.
      to: { path: '^src/', pathNot: ['^src/console/', '^src/common/', '^src/api/native/views\\.ts$', '^src/api/native/schemas\\.ts$', '^src/api/native/(inventory|event-stream)\\.ts$'] },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.tsx', '.js', '.mjs'] },
    exclude: { path: ['node_modules', '^src/console/dist'] },
  },
};
