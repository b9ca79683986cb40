/** The native API's server-sent event format: what the server writes, both clients read, however it is chunked. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventStreamReader, formatEvent } from '../../src/api/native/event-stream.js';

test('events written by the server are read back whole, one call each, however the text is split', () => {
  const wire =
    formatEvent('progress', { task: { id: 't1', succeeded: 1 } }) +
    formatEvent('done', { task: { id: 't1', status: 'succeeded' } });
  for (const size of [1, 2, 7, wire.length]) {
    const seen: Array<[string, unknown]> = [];
    const read = eventStreamReader((event, data) => seen.push([event, data]));
    for (let i = 0; i < wire.length; i += size) read(wire.slice(i, i + size));
    assert.deepEqual(
      seen,
      [
        ['progress', { task: { id: 't1', succeeded: 1 } }],
        ['done', { task: { id: 't1', status: 'succeeded' } }],
      ],
      `chunks of ${size}`,
    );
  }
});

test('an event cut off before its blank line is not delivered; a block without data is skipped', () => {
  const seen: string[] = [];
  const read = eventStreamReader((event) => seen.push(event));
  read(': comment\n\n');
  read('event: progress\ndata: {"a":1}\n');
  assert.deepEqual(seen, [], 'nothing complete yet');
  read('\n');
  assert.deepEqual(seen, ['progress']);
});
