/** The KPS v3-compatible API, the Nova os-keypairs calls and the IAM token endpoints. */
import type { FastifyInstance } from 'fastify';
import type { Core } from '../../core/index.js';

export interface KpsContext {
  core: Core;
}

export async function kpsApiPlugin(_app: FastifyInstance, _ctx: KpsContext): Promise<void> {}
