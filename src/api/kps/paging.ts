/**
 * Marker paging for ListKeypairs and NovaListKeypairs: the marker is the name of the last key pair of the previous
 * page (API.md §3.2, §9). The core pages by offset in a stable order, so the marker's position is looked up first.
 * A marker that names no key pair is refused, as Nova does, rather than silently restarting from the top.
 */
import type { Caller } from '../../core/caller.js';
import { CoreError } from '../../core/errors.js';
import type { Core } from '../../core/index.js';
import type { KeyPair } from '../../core/keypair/keypair.js';

const SCAN_PAGE = 1000;

export interface KeyPairPage {
  items: KeyPair[];
  /** True when key pairs follow this page. */
  more: boolean;
}

export async function keyPairsAfter(
  core: Core,
  caller: Caller,
  regionId: string,
  marker: string | undefined,
  limit: number,
): Promise<KeyPairPage> {
  const offset = marker === undefined ? 0 : (await positionOf(core, caller, regionId, marker)) + 1;
  const page = await core.keyPairs.list(caller, { regionId, offset, limit });
  return { items: page.items, more: offset + page.items.length < page.total };
}

async function positionOf(core: Core, caller: Caller, regionId: string, name: string): Promise<number> {
  for (let offset = 0; ; offset += SCAN_PAGE) {
    const page = await core.keyPairs.list(caller, { regionId, offset, limit: SCAN_PAGE });
    const at = page.items.findIndex((kp) => kp.name === name);
    if (at !== -1) return offset + at;
    if (offset + page.items.length >= page.total || page.items.length === 0) {
      throw new CoreError(
        'Input.Invalid',
        `The marker '${name.slice(0, 64)}' is not the name of a key pair in this project.`,
        { parameter: 'marker' },
      );
    }
  }
}
