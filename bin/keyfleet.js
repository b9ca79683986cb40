#!/usr/bin/env node
// keyfleet's CLI is compiled at install (npm ci / npm install run `prepare`, and `npm test` runs `pretest`:
// scripts/build-cli.mjs → dist/cli/), because scripts call it thousands of times and tsx needs ~2 s to start.
// Without a build, or with one older than a source it was built from (a developer's edit), the CLI runs from source
// through tsx, slower but never stale, and says so in one line on stderr. test/cli/startup.test.ts fails then, so
// the test suite runs the compiled CLI. `keyfleet serve` runs the server through tsx either way.
import fs from 'node:fs';

const root = new URL('../', import.meta.url);
const compiled = new URL('dist/cli/main.js', root);

/** Why dist/cli/ cannot be used, or null when it is current. */
function notCurrent() {
  let info;
  try {
    info = JSON.parse(fs.readFileSync(new URL('dist/cli/build-info.json', root), 'utf8'));
  } catch {
    return 'no compiled CLI in dist/cli';
  }
  for (const input of info.inputs) {
    const mtime = fs.statSync(new URL(input, root), { throwIfNoEntry: false })?.mtimeMs;
    if (mtime === undefined || mtime > info.builtAt) return `${input} changed since the CLI was compiled`;
  }
  return null;
}

const why = notCurrent();
if (why === null) {
  await import(compiled.href);
} else {
  process.stderr.write(`keyfleet: ${why}; running from source (slower until \`npm run build:cli\`)\n`);
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
