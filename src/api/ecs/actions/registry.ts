/** Action name → operation. Total over ECS_ACTION_NAMES (a missing or extra operation is a type error). */
import type { EcsActionName } from '../action-names.js';
import { bindingActions } from './bindings.js';
import { catalogActions } from './catalog.js';
import type { ActionHandler } from './context.js';
import { instanceActions } from './instances.js';
import { keyPairActions } from './key-pairs.js';
import { tagActions } from './tags.js';

const ACTIONS: Record<EcsActionName, ActionHandler> = {
  ...keyPairActions,
  ...bindingActions,
  ...instanceActions,
  ...catalogActions,
  ...tagActions,
};

/** The operation for an Action value, or undefined (`toString` and other inherited names are not actions). */
export function findAction(name: string): { name: EcsActionName; handler: ActionHandler } | undefined {
  if (!Object.hasOwn(ACTIONS, name)) return undefined;
  return { name: name as EcsActionName, handler: ACTIONS[name as EcsActionName] };
}
