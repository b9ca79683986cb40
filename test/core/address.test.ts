/**
 * Host addresses in canonical form (src/common/address.ts, issue 18): every spelling the C library would connect to
 * the same machine with is one address, so a per-account uniqueness check and the operator's network allowlist cannot
 * be passed by writing an address differently.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inNetwork, normalizeHostAddress, parseNetwork } from '../../src/common/address.js';

const text = (a: string) => normalizeHostAddress(a)?.text ?? null;
const kind = (a: string) => normalizeHostAddress(a)?.kind ?? null;

describe('host address normalization', () => {
  test('IPv4 short and numeric forms as inet_aton reads them', () => {
    for (const [input, want] of [
      ['127.16.0.6', '127.16.0.6'],
      ['127.16.6', '127.16.0.6'],
      ['127.1', '127.0.0.1'],
      ['2130706433', '127.0.0.1'],
      ['0x7f000001', '127.0.0.1'],
      ['0x7f.1', '127.0.0.1'],
      ['0177.0.0.1', '127.0.0.1'],
      ['127.016.0.6', '127.14.0.6'], // a leading 0 is octal
      ['0X7F.0x10.0.6', '127.16.0.6'],
      ['4294967295', '255.255.255.255'],
      ['0', '0.0.0.0'],
    ]) {
      assert.equal(text(input!), want, input);
      assert.equal(kind(input!), 'ipv4', input);
    }
  });

  test('IPv4 forms out of range or malformed are refused, not taken for names', () => {
    for (const input of [
      '256.1.1.1',
      '1.256.1.1',
      '1.2.65536',
      '4294967296',
      '1.2.3.4.5',
      '127.1.',
      '.127.1',
      '0x',
      '08',
      '1..1',
      '127.0.0.1x',
    ])
      assert.equal(normalizeHostAddress(input), null, input);
  });

  test('IPv4-mapped IPv6 becomes the IPv4 address it reaches', () => {
    assert.equal(text('::ffff:127.16.0.6'), '127.16.0.6');
    assert.equal(text('::FFFF:7f10:6'), '127.16.0.6');
    assert.equal(text('0:0:0:0:0:ffff:7f10:0006'), '127.16.0.6');
    assert.equal(kind('::ffff:127.16.0.6'), 'ipv4');
    // inet_pton takes only the strict dotted quad inside IPv6.
    assert.equal(normalizeHostAddress('::ffff:127.16.6'), null);
    assert.equal(normalizeHostAddress('::ffff:127.016.0.6'), null);
  });

  test('IPv6 in RFC 5952 form: lower case, no leading zeros, the longest zero run compressed', () => {
    for (const [input, want] of [
      ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8::0:1', '2001:db8::1'],
      ['fe80::1:0:0:0', 'fe80::1:0:0:0'], // a tie: the first run
      ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'], // a single zero group is not compressed
      ['::', '::'],
      ['::1', '::1'],
      ['1::', '1::'],
      ['::1.2.3.4', '::102:304'], // IPv4-compatible (deprecated) is plain IPv6
      ['64:ff9b::127.16.0.6', '64:ff9b::7f10:6'],
    ]) {
      assert.equal(text(input!), want, input);
      assert.equal(kind(input!), 'ipv6', input);
    }
    for (const input of [
      '1:2:3:4:5:6:7::8',
      '1::2::3',
      ':1::',
      '1:2:3:4:5:6:7',
      '12345::',
      '1.2.3.4::',
      'fe80::1%eth0',
      '[::1]',
      'g::1',
    ])
      assert.equal(normalizeHostAddress(input), null, input);
  });

  test('host names are lower-cased; a numeric-looking last label must be an IPv4 form', () => {
    assert.equal(text('Web-1.Example.COM'), 'web-1.example.com');
    assert.equal(kind('localhost'), 'hostname');
    assert.equal(text('host_under.lan'), 'host_under.lan');
    for (const input of ['a.1b', '10.0.0.1a', 'host-', '-host', 'a..b', 'example.com.', 'a b', 'x'.repeat(64), ''])
      assert.equal(normalizeHostAddress(input), null, JSON.stringify(input));
  });
});

describe('networks of the allowlist', () => {
  test('a network is its canonical base and prefix; membership compares the prefix bits', () => {
    const ten = parseNetwork('10.1.2.3/8')!;
    assert.equal(ten.text, '10.0.0.0/8');
    assert.ok(inNetwork(normalizeHostAddress('10.200.0.1')!, ten));
    assert.ok(inNetwork(normalizeHostAddress('10.1')!, ten), 'a short form of an address inside');
    assert.ok(inNetwork(normalizeHostAddress('::ffff:10.0.0.9')!, ten), 'the mapped form of an address inside');
    assert.ok(!inNetwork(normalizeHostAddress('11.0.0.1')!, ten));
    assert.ok(!inNetwork(normalizeHostAddress('::ffff:11.0.0.1')!, ten));
    assert.ok(!inNetwork(normalizeHostAddress('167772161')!, parseNetwork('192.168.0.0/16')!), '10.0.0.1 as a number');
    assert.ok(!inNetwork(normalizeHostAddress('example.com')!, parseNetwork('0.0.0.0/0')!), 'a name is in no network');

    const ula = parseNetwork('FD00::1/8')!;
    assert.equal(ula.text, 'fd00::/8');
    assert.ok(inNetwork(normalizeHostAddress('fdab::1')!, ula));
    assert.ok(!inNetwork(normalizeHostAddress('fe80::1')!, ula));
    assert.ok(!inNetwork(normalizeHostAddress('10.0.0.1')!, ula), 'IPv4 is in no IPv6 network');

    const one = parseNetwork('127.16.6')!;
    assert.equal(one.text, '127.16.0.6/32', 'a bare address is that one address');
    assert.ok(inNetwork(normalizeHostAddress('127.16.0.6')!, parseNetwork('127.16.0.0/23')!));
    assert.ok(!inNetwork(normalizeHostAddress('127.16.2.6')!, parseNetwork('127.16.0.0/23')!));
  });

  test('malformed networks are refused', () => {
    for (const input of [
      '10.0.0.0/33',
      '::/129',
      '10.0.0.0/',
      '10.0.0.0/-1',
      '10.0.0.0/8/8',
      'example.com/8',
      '::ffff:10.0.0.0/104',
      '10.0.0.0/08x',
    ])
      assert.equal(parseNetwork(input), null, input);
  });
});
