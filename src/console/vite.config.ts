/**
 * Build of the web console: `npx vite build --config src/console/vite.config.ts` writes dist/console, which
 * keyfleet serves at /console. `npx vite --config src/console/vite.config.ts` runs a dev server that proxies the
 * API to a keyfleet on KEYFLEET_URL (default http://127.0.0.1:8080).
 */
import path from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = import.meta.dirname;

export default defineConfig({
  root,
  base: '/console/',
  plugins: [react()],
  publicDir: path.join(root, 'public'),
  build: {
    outDir: path.resolve(root, '../../dist/console'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    proxy: { '/api': process.env.KEYFLEET_URL ?? 'http://127.0.0.1:8080' },
  },
});
