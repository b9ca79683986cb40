/** `keyfleet hosts import`: the inventory formats it reads (Ansible-style INI and CSV). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseInventory } from '../../src/api/native/inventory.js';

test('INI: host lines with ansible_host/port/user; group headers ignored, :vars and :children sections skipped', () => {
  const ini = [
    '# fleet',
    '[web]',
    'web1 ansible_host=10.0.0.1 ansible_port=2222 ansible_user=deploy',
    'web2.example.com',
    '[web:vars]',
    'ansible_user=ignored',
    '[db]',
    "db1 ansible_host='10.0.0.9'",
  ].join('\n');
  assert.deepEqual(parseInventory(ini, 'ini'), [
    { name: 'web1', address: '10.0.0.1', port: 2222, user: 'deploy' },
    { name: 'web2.example.com', address: 'web2.example.com', port: 22, user: 'root' },
    { name: 'db1', address: '10.0.0.9', port: 22, user: 'root' },
  ]);
});

test('CSV: name,address,port,user with an optional header; a bad port names its line', () => {
  assert.deepEqual(parseInventory('name,address,port,user\nweb1,10.0.0.1,22,root\nweb2,10.0.0.2,,ubuntu\n', 'csv'), [
    { name: 'web1', address: '10.0.0.1', port: 22, user: 'root' },
    { name: 'web2', address: '10.0.0.2', port: 22, user: 'ubuntu' },
  ]);
  assert.throws(() => parseInventory('web1,10.0.0.1,99999,root\n', 'csv'), /line 1: '99999' is not a valid port/);
});
