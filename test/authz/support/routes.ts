/** The routes a running keyfleet serves, read from Fastify's own route tree (`printRoutes`), as `METHOD /path`. */
import type { FastifyInstance } from 'fastify';

export function registeredRoutes(app: FastifyInstance): string[] {
  const out: string[] = [];
  const stack: Array<{ depth: number; path: string }> = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([\s│]*)(?:[└├]── )(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    while (stack.length && stack[stack.length - 1]!.depth >= depth) stack.pop();
    const parent = stack.length ? stack[stack.length - 1]!.path : '';
    const seg = m[2]!;
    const path = parent === '' ? seg : parent.endsWith('/') || seg.startsWith('/') ? parent + seg : parent + '/' + seg;
    stack.push({ depth, path });
    for (const method of (m[3] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      if (method !== 'HEAD') out.push(`${method} ${path}`);
    }
  }
  return out;
}
