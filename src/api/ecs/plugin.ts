/** The ECS-compatible RPC API (2014-05-26) at `/`. */
import type { FastifyInstance } from 'fastify';
import type { Core } from '../../core/index.js';

export interface EcsContext {
  core: Core;
}

export async function ecsApiPlugin(_app: FastifyInstance, _ctx: EcsContext): Promise<void> {}
