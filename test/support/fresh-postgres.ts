/**
 * A database of its own on the throwaway PostgreSQL server the test command starts (KEYFLEET_TEST_PG_URL), for a
 * test that needs an empty store; dropped (with its connections) afterwards.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';

export const PG_URL = process.env.KEYFLEET_TEST_PG_URL;

export async function freshPostgres(): Promise<{ url: string; drop: () => Promise<void> }> {
  assert.ok(PG_URL, 'KEYFLEET_TEST_PG_URL must be set (npm test starts a throwaway PostgreSQL)');
  const name = 'kf_' + randomUUID().replace(/-/g, '').slice(0, 16);
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = PG_URL.replace(/\/[^/]*$/, '/' + name);
  return {
    url,
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
