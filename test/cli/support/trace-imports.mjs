// Preloaded with `node --import` by test/cli/startup.test.ts: registers a loader hook that appends every module
// URL the ES module loader resolves to the file named by KEYFLEET_TRACE_IMPORTS, to see what a command loaded.
import { register } from 'node:module';

register('./trace-imports-hooks.mjs', import.meta.url);
