#!/usr/bin/env node
/**
 * Compiles the CLI (src/cli/main.ts and what it imports) to dist/cli/ with esbuild, so `keyfleet` starts without
 * tsx transpiling TypeScript on every run. Run by `prepare` (npm ci / npm install) and `pretest`; takes well under
 * a second. bin/keyfleet.js runs dist/cli/main.js when it is there and newer than every source it was built from
 * (listed in dist/cli/build-info.json), and the sources through tsx otherwise.
 *
 * esbuild rather than tsc: one call, ~50 ms, and the lazy `import()` of each command module becomes its own file,
 * so `--help` loads none of them. Packages stay external (node_modules is there at run time; bundling would pull
 * tsx's loader into the `serve` path), and only our TypeScript is compiled. The server is not compiled: `serve`
 * imports it by URL through tsx (src/cli/serve-through-tsx.ts).
 *
 * The build goes to a temporary directory first and replaces dist/cli/ with two renames, so a `keyfleet` started
 * during a rebuild sees the old build, the new one or none (then it runs from source): never half of one.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
const outDir = path.join(root, 'dist/cli');
const tmpDir = `${outDir}.building-${process.pid}`;
const oldDir = `${outDir}.old-${process.pid}`;

// Taken before esbuild reads any source: a source saved during the build makes this build stale, not current.
const builtAt = Date.now();
fs.rmSync(tmpDir, { recursive: true, force: true });
const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outdir: tmpDir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  chunkNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});
const inputs = Object.keys(result.metafile.inputs).sort();
fs.writeFileSync(path.join(tmpDir, 'build-info.json'), JSON.stringify({ builtAt, inputs }, null, 2) + '\n');

fs.mkdirSync(path.dirname(outDir), { recursive: true });
if (fs.existsSync(outDir)) fs.renameSync(outDir, oldDir);
try {
  fs.renameSync(tmpDir, outDir);
} catch (err) {
  // Another build (a concurrent `npm test`) put its dist/cli/ in place between our two renames: keep that one.
  if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
  fs.rmSync(tmpDir, { recursive: true, force: true });
}
fs.rmSync(oldDir, { recursive: true, force: true });
