/**
 * The data directory is the owner's only (issue 18): 0700, and the embedded store's files (keyfleet.db, -wal,
 * -shm) and master.key 0600, on a fresh start and also after a start over a directory left with looser modes.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { startInProcess, tempDir } from '../support/keyfleet.js';

const FILES = ['keyfleet.db', 'keyfleet.db-wal', 'keyfleet.db-shm', 'master.key'];

function modeOf(file: string): string {
  return (fs.statSync(file).mode & 0o777).toString(8);
}

function assertPrivate(dir: string, when: string): void {
  assert.equal(modeOf(dir), '700', `${when}: the data directory`);
  for (const f of FILES) {
    const file = path.join(dir, f);
    // While keyfleet runs, SQLite keeps its -wal and -shm files (made by SQLite itself, not by keyfleet).
    assert.ok(fs.existsSync(file), `${when}: ${f} exists`);
    assert.equal(modeOf(file), '600', `${when}: ${f}`);
  }
}

describe('data directory modes', { skip: process.platform === 'win32' }, () => {
  test('0700 and 0600 on a fresh start, and again after a start over looser modes', async () => {
    const dir = path.join(tempDir(), 'data');
    const first = await startInProcess({ dataDir: dir });
    // Something written, so the WAL holds data while it runs.
    await first.api.createKeyPair('modes-kp', 'ed25519');
    assertPrivate(dir, 'fresh start, running');
    await first.kf.close();

    fs.chmodSync(dir, 0o755);
    for (const f of FILES) if (fs.existsSync(path.join(dir, f))) fs.chmodSync(path.join(dir, f), 0o644);
    const second = await startInProcess({ dataDir: dir });
    try {
      assertPrivate(dir, 'second start over 0755/0644');
      assert.equal((await second.api.call('GET', '/api/v1/regions/cn-hangzhou/key-pairs')).total, 1);
    } finally {
      await second.kf.close();
    }
  });
});
