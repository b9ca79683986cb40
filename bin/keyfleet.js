#!/usr/bin/env node
// keyfleet runs its TypeScript sources through tsx's loader: one artefact, no build step to forget.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
