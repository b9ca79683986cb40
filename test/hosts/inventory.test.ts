/** Inventories (`keyfleet hosts import`, POST /hosts/imports, the console's preview): the formats read (Ansible-style INI and CSV). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectInventoryFormat, parseInventory, readInventory } from '../../src/api/native/inventory.js';

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

test('readInventory: every bad line reported with its number, not only the first; port and user only when a line gives them; keyfleet_ variables and extra CSV columns', () => {
  const ini = [
    '[web]',
    'web1 ansible_host=10.0.0.1 keyfleet_host_key=SHA256:abc keyfleet_home=/srv/home/deploy',
    'web2 ansible_port=0',
    'web3 ansible_port=x ansible_user=ops',
  ].join('\n');
  assert.deepEqual(readInventory(ini, 'ini'), [
    { line: 2, name: 'web1', address: '10.0.0.1', hostKeySha256: 'SHA256:abc', homeDir: '/srv/home/deploy' },
    { line: 3, problem: "'0' is not a valid port" },
    { line: 4, problem: "'x' is not a valid port" },
  ]);
  assert.deepEqual(readInventory('web1,10.0.0.1,2222,deploy,SHA256:k,/home/d\n,10.0.0.2\nweb3,10.0.0.3\n', 'csv'), [
    {
      line: 1,
      name: 'web1',
      address: '10.0.0.1',
      port: 2222,
      user: 'deploy',
      hostKeySha256: 'SHA256:k',
      homeDir: '/home/d',
    },
    { line: 2, problem: 'expected name,address,port,user' },
    { line: 3, name: 'web3', address: '10.0.0.3' },
  ]);
});

test('detectInventoryFormat: a file extension decides, else CSV when the first line looks comma-separated', () => {
  assert.equal(detectInventoryFormat('a b', 'fleet.csv'), 'csv');
  assert.equal(detectInventoryFormat('a,b', 'hosts.ini'), 'ini');
  assert.equal(detectInventoryFormat('# comment\nname,address,port,user\n'), 'csv');
  assert.equal(detectInventoryFormat('[web]\nweb1 ansible_host=a,b\n'), 'ini');
  assert.equal(detectInventoryFormat('web1 ansible_host=10.0.0.1,10.0.0.2'), 'ini');
});
