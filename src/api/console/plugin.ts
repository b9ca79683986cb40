/** The web console: a single-page app served at /console (built by Vite into dist/console). */
import type { FastifyInstance } from 'fastify';

export interface ConsoleContext {
  /** Directory of the built console (index.html and assets). */
  distDir: string;
}

export async function consolePlugin(_app: FastifyInstance, _ctx: ConsoleContext): Promise<void> {}
