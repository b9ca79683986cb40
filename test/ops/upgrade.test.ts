/**
 * Upgrades: a data directory written by each earlier schema version opens with the current code, migrates forward
 * and is still usable, with every row it held (fixtures made by scripts/make-schema-fixture.ts, one per migration).
 * And a migration added without its fixture fails here, naming the command that makes one.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import BetterSqlite3 from 'better-sqlite3';
import { loadConfig } from '../../src/app/config.js';
import { startKeyfleet } from '../../src/app/keyfleet.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { Api, tempDir, testEnv } from '../support/keyfleet.js';
import { memoryFleet } from '../support/memory-fleet.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/schemas');
const VERSIONS = Object.keys(MIGRATIONS);

interface Fixture {
  version: string;
  rows: Record<string, number>;
  keyPair: string;
  boundInstance: string;
  otherInstance: string;
  host: string | null;
  tasks: string[];
  user: string;
  userPassword: string;
}

function applied(file: string): string[] {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    return db.prepare('SELECT name FROM kysely_migration ORDER BY name').pluck().all() as string[];
  } finally {
    db.close();
  }
}

/** A copy of the fixture as a data directory (the database is stored gzipped). */
function dataDirFrom(version: string): string {
  const dir = tempDir();
  fs.chmodSync(dir, 0o700);
  fs.writeFileSync(
    path.join(dir, 'keyfleet.db'),
    gunzipSync(fs.readFileSync(path.join(FIXTURES, version, 'keyfleet.db.gz'))),
    {
      mode: 0o600,
    },
  );
  fs.copyFileSync(path.join(FIXTURES, version, 'master.key'), path.join(dir, 'master.key'));
  fs.chmodSync(path.join(dir, 'master.key'), 0o600);
  return dir;
}

test('every migration has a schema fixture', () => {
  const missing = VERSIONS.filter((v) => !fs.existsSync(path.join(FIXTURES, v, 'keyfleet.db.gz')));
  assert.deepEqual(
    missing,
    [],
    `migrations without a fixture in test/fixtures/schemas: run \`node --import tsx scripts/make-schema-fixture.ts ${missing
      .map((m) => m.slice(0, 4))
      .join(' ')}\``,
  );
});

for (const version of VERSIONS.filter((v) => fs.existsSync(path.join(FIXTURES, v, 'fixture.json')))) {
  test(`a data directory at schema ${version} migrates forward and is usable`, { timeout: 120_000 }, async () => {
    const fx = JSON.parse(fs.readFileSync(path.join(FIXTURES, version, 'fixture.json'), 'utf8')) as Fixture;
    const dataDir = dataDirFrom(version);
    const db = path.join(dataDir, 'keyfleet.db');
    assert.deepEqual(applied(db), VERSIONS.slice(0, VERSIONS.indexOf(version) + 1), 'the fixture is at its version');

    const env = await testEnv({ dataDir, bootMs: 0, extra: { KEYFLEET_SIM_SERVE: '0' } });
    const kf = await startKeyfleet(loadConfig(env), { live: memoryFleet() });
    try {
      assert.deepEqual(applied(db), VERSIONS, 'migrated to the newest schema');
      // The access key's secret is sealed with the fixture's key: signing in opens it.
      const api = new Api(kf.url);
      await api.signIn();
      const base = '/api/v1/regions/cn-hangzhou';

      const kps = (await api.call('GET', `${base}/key-pairs`)).keyPairs;
      assert.deepEqual(
        kps.map((k: any) => k.name),
        [fx.keyPair],
      );
      const instances = (await api.call('GET', `${base}/instances?limit=100`)).instances;
      assert.equal(instances.length, fx.rows.instances);
      assert.equal((await api.instance(fx.boundInstance)).keyPairName, fx.keyPair, 'the binding is still recorded');
      if (fx.host) assert.equal((await api.instance(fx.host)).keyPairName, fx.keyPair, 'the host is still bound');
      for (const id of fx.tasks) {
        const task = (await api.call('GET', `/api/v1/tasks/${id}`)).task;
        assert.equal(task.status, 'succeeded', `task ${id}`);
        assert.equal(task.succeeded, 1);
      }
      const history = await api.call('GET', `/api/v1/instances/${fx.boundInstance}/history`);
      assert.equal(history.events.length, 1, 'the binding event is still there');

      // Usable: a new batch bind on the old data, and the user signs in with the password it had.
      const bind = await api.bind({ action: 'bind', keyPairName: fx.keyPair, instanceIds: [fx.otherInstance] });
      assert.equal(bind.task.succeeded, 1, JSON.stringify(bind.task));
      assert.equal((await api.instance(fx.otherInstance)).keyPairName, fx.keyPair);
      if (fx.host) {
        const live = await api.bind({ action: 'unbind', instanceIds: [fx.host], mode: 'live' });
        assert.equal(live.task.succeeded, 1, `the host's sealed management key opens: ${JSON.stringify(live.task)}`);
      }
      const user = new Api(kf.url);
      await user.signIn({ accountName: 'keyfleet', userName: fx.user, password: fx.userPassword });
      if (fx.rows.policies) {
        // Its policy (and, from 0006, its group's) still lets it list key pairs.
        const mine = (await user.call('GET', `${base}/key-pairs`)).keyPairs;
        assert.equal(mine.length, 1);
      }
    } finally {
      await kf.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
}
