/**
 * The console mount (src/api/console/plugin.ts) without a browser: built files with long-lived caching for hashed
 * assets, index.html (no-cache, CSP) for every client route, 404 for a missing asset, /console → /console/, and
 * a clear 503 page when the console has not been built.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { consolePlugin } from '../../src/api/console/plugin.js';
import { tempDir } from '../support/tmp.js';

async function serve(distDir: string): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(consolePlugin, { prefix: '/console', distDir });
  await app.ready();
  return app;
}

describe('console mount', () => {
  const apps: FastifyInstance[] = [];
  after(async () => {
    for (const a of apps) await a.close();
  });

  test('without a build every console URL answers 503 saying how to build it', async () => {
    const app = await serve(path.join(tempDir(), 'no-such-dist'));
    apps.push(app);
    for (const url of ['/console/', '/console/instances', '/console/assets/index-abc.js']) {
      const r = await app.inject({ url });
      assert.equal(r.statusCode, 503, url);
      assert.match(r.headers['content-type'] as string, /text\/html/);
      assert.match(r.body, /console not built: run npm run build:console/);
      assert.equal(r.headers['cache-control'], 'no-store');
    }
  });

  test('a build is served: hashed assets cached for a year, index.html no-cache for every client route', async () => {
    const dist = tempDir();
    fs.mkdirSync(path.join(dist, 'assets'));
    fs.writeFileSync(
      path.join(dist, 'index.html'),
      '<!doctype html><script type="module" src="/console/assets/index-abc123.js"></script>',
    );
    fs.writeFileSync(path.join(dist, 'assets/index-abc123.js'), 'console.log(1)');
    fs.writeFileSync(path.join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    const app = await serve(dist);
    apps.push(app);

    const redirect = await app.inject({ url: '/console?region=cn-shanghai' });
    assert.equal(redirect.statusCode, 302);
    assert.equal(redirect.headers.location, '/console/?region=cn-shanghai');

    for (const url of [
      '/console/',
      '/console/instances',
      '/console/tasks/1234-abcd',
      '/console/index.html',
      '/console/key-pairs?x=1',
    ]) {
      const r = await app.inject({ url });
      assert.equal(r.statusCode, 200, url);
      assert.match(r.body, /index-abc123\.js/, url);
      assert.equal(r.headers['cache-control'], 'no-cache', url);
      assert.match(r.headers['content-security-policy'] as string, /default-src 'self'.*frame-ancestors 'none'/);
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
    }
    const asset = await app.inject({ url: '/console/assets/index-abc123.js' });
    assert.equal(asset.statusCode, 200);
    assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.match(asset.headers['content-type'] as string, /javascript/);
    const icon = await app.inject({ url: '/console/favicon.svg' });
    assert.equal(icon.statusCode, 200);
    assert.equal(icon.headers['cache-control'], 'public, max-age=3600');

    for (const url of ['/console/assets/index-gone.js', '/console/robots.txt']) {
      const r = await app.inject({ url });
      assert.equal(r.statusCode, 404, url);
      assert.doesNotMatch(r.body, /<script/);
    }
    assert.equal((await app.inject({ url: '/console/instances', method: 'POST' })).statusCode, 405);
    fs.writeFileSync(path.join(dist, '..', 'secret.txt'), 'outside the build');
    for (const url of [
      '/console/../secret.txt',
      '/console/%2e%2e/secret.txt',
      '/console/assets/%2e%2e/%2e%2e/secret.txt',
    ]) {
      assert.doesNotMatch((await app.inject({ url })).body, /outside the build/, url);
    }
  });
});
