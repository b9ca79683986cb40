// Loader hooks for trace-imports.mjs; they run on the loader's own thread, hence the file rather than memory.
import fs from 'node:fs';

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  fs.appendFileSync(process.env.KEYFLEET_TRACE_IMPORTS, resolved.url + '\n');
  return resolved;
}
