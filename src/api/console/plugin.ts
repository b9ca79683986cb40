/**
 * The web console: a single-page app served at /console (built by Vite into dist/console).
 *
 * - Built files are served by @fastify/static. Hashed files under /console/assets/ are cached for a year
 *   (immutable); index.html is `no-cache`, so a new build is picked up on the next visit.
 * - Client routes (/console/instances, /console/tasks/<id>, …) get index.html; a missing asset gets a 404.
 * - Without a build, every console URL answers 503 with a page saying how to build it.
 * - Console pages carry a strict Content-Security-Policy: scripts, styles and API calls from this origin only,
 *   no framing. The console handles private keys, so no third-party code may ever run in it.
 */
import fs from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface ConsoleContext {
  /** Directory of the built console (index.html and assets). */
  distDir: string;
}

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>keyfleet console not built</title>
<style>body{font:15px/1.5 system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;background:#f4f6f9;color:#1c2430}
main{max-width:560px;background:#fff;border:1px solid #e2e6ec;border-radius:10px;padding:28px}code{background:#eef0f3;padding:2px 6px;border-radius:4px}</style>
</head><body><main>
<h1>console not built: run npm run build:console</h1>
<p>keyfleet is running, but the web console has not been built in this checkout. Build it once with
<code>npm run build:console</code> (or <code>npx vite build --config src/console/vite.config.ts</code>), then reload this page.</p>
<p>The native API at <code>/api/v1</code>, the CLI and the cloud APIs work without it.</p>
</main></body></html>`;

function securityHeaders(reply: FastifyReply): void {
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('x-frame-options', 'DENY');
}

export async function consolePlugin(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const distDir = path.resolve(ctx.distDir);
  const indexFile = path.join(distDir, 'index.html');
  const isBuilt = () => fs.existsSync(indexFile);

  const notBuilt = (reply: FastifyReply) => {
    securityHeaders(reply);
    return reply
      .status(503)
      .header('cache-control', 'no-store')
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
      .type('text/html; charset=utf-8')
      .send(NOT_BUILT_PAGE);
  };

  const sendIndex = async (reply: FastifyReply) => {
    let html: Buffer;
    try {
      html = await fs.promises.readFile(indexFile);
    } catch {
      return notBuilt(reply);
    }
    securityHeaders(reply);
    return reply
      .status(200)
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CSP)
      .type('text/html; charset=utf-8')
      .send(html);
  };

  // /console → /console/ (keeps the query string), so relative URLs and the client router see one canonical base.
  app.get('/', { prefixTrailingSlash: 'no-slash', schema: { hide: true } }, async (req, reply) => {
    const q = req.url.indexOf('?');
    return reply.redirect(`/console/${q >= 0 ? req.url.slice(q) : ''}`, 302);
  });
  app.get('/', { prefixTrailingSlash: 'slash', schema: { hide: true } }, async (_req, reply) => sendIndex(reply));

  await app.register(fastifyStatic, {
    root: distDir,
    prefix: '/',
    wildcard: true,
    index: false,
    redirect: false,
    dotfiles: 'deny',
    cacheControl: false,
    // index.html goes through sendIndex (CSP, no-cache), also when asked for by name.
    allowedPath: (pathName) => pathName !== '/index.html',
    setHeaders: (res, filePath) => {
      const rel = path.relative(distDir, filePath).split(path.sep).join('/');
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader(
        'cache-control',
        rel.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'public, max-age=3600',
      );
    },
  });

  app.setNotFoundHandler(async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return reply
        .status(405)
        .header('allow', 'GET, HEAD')
        .type('text/plain; charset=utf-8')
        .send('The console serves GET requests only.\n');
    }
    if (!isBuilt()) return notBuilt(reply);
    const pathname = decodeURIComponent((req.url.split('?')[0] ?? '').replace(/^\/console/, ''));
    // A file that should exist (an asset, anything with an extension) but does not: a plain 404, not the app.
    if (pathname.startsWith('/assets/') || (/\.[A-Za-z0-9]{1,8}$/.test(pathname) && pathname !== '/index.html')) {
      securityHeaders(reply);
      return reply
        .status(404)
        .header('cache-control', 'no-store')
        .type('text/plain; charset=utf-8')
        .send(`Not found: /console${pathname}\n`);
    }
    // A client route of the single-page app.
    return sendIndex(reply);
  });
}
