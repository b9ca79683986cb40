/**
 * The sshd semantics contract for authorized_keys options (see sshd-semantics.test.ts for the rest): each case runs
 * on the simulated sshd and on Debian's OpenSSH sshd and must come out the same.
 *
 * Known, tested difference: where the simulation does not reproduce an option's effect it refuses the key (fails
 * closed) while OpenSSH applies it; today that is `environment=` under `PermitUserEnvironment yes` (the case marked
 * KNOWN DIFFERENCE pins both behaviours).
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { planAuthorizedKeys } from '../../src/core/binding/authorized-keys.js';
import { sshKeygen } from '../support/openssh.js';
import { onEachTarget, type Key } from './sshd-contract.js';
import { execWithPty } from './sshd-probes.js';

let alice: Key;
let bob: Key;
before(async () => {
  [alice, bob] = await Promise.all([sshKeygen('ed25519', 'alice'), sshKeygen('ed25519', 'bob')]);
});

onEachTarget((h) => {
  const { ep, query, run, setKeys } = h;

  describe('authorized_keys options', () => {
    test('expiry-time: a past time refuses the key, a future one accepts it (Z: UTC), a malformed one skips the line', async () => {
      await setKeys(`expiry-time="200001010000Z" ${alice.publicKey}`, `expiry-time="29991231235959Z" ${bob.publicKey}`);
      assert.equal(await query(alice), false, 'expired in 2000');
      assert.equal(await query(bob), true, 'valid until 2999');
      assert.equal((await run(bob, 'echo ok')).code, 0);
      await setKeys(`expiry-time="20000101Z" ${alice.publicKey}`, `expiry-time="29991231" ${bob.publicKey}`);
      assert.equal(await query(alice), false, 'date-only form, past');
      assert.equal(await query(bob), true, 'date-only form, future (system time zone)');
      await setKeys(`expiry-time="tomorrow" ${alice.publicKey}`, `expiry-time="2999123123" ${bob.publicKey}`);
      assert.equal(await query(alice), false);
      assert.equal(await query(bob), false, 'ten digits is no accepted length');
    });

    test("expiry-time's grammar as OpenSSH 9.2 reads it: Z or UTC in any case, fields read by strptime (leading blanks, rollover), the epoch and years before 1970 invalid", async () => {
      // Each future form that OpenSSH accepts lets bob in; an invalid one skips the line. A later plain listing of
      // alice shows that a refused (expired or skipped) listing does not end the lookup.
      const accepted = [
        '29991231235959Z',
        '29991231235959z',
        '29991231235959UTC',
        '29991231235959utc',
        '299912312359Z',
        '29991231UTC',
        '2999 101Z',
        '299901 1Z',
        '29990230Z',
        '29991231235961Z',
      ];
      const invalid = [
        '29991231235959 Z',
        '2999-1231Z',
        '29991301Z',
        '29991200Z',
        '29991231245959Z',
        '2999123123Z',
        'Z',
        'UTC',
        '+2999123Z',
      ];
      for (const value of accepted) {
        await setKeys(`expiry-time="${value}" ${bob.publicKey}`);
        assert.equal(await query(bob), true, `expiry-time="${value}" is valid and in the future`);
      }
      for (const value of invalid) {
        await setKeys(`expiry-time="${value}" ${bob.publicKey}`);
        assert.equal(await query(bob), false, `expiry-time="${value}" is invalid: the line is skipped`);
      }
      for (const value of ['19700101Z', '00990101Z', '19691231235959Z', '20000101000000UTC']) {
        await setKeys(`expiry-time="${value}" ${alice.publicKey}`, alice.publicKey);
        assert.equal(await query(alice), true, `after expiry-time="${value}" the plain listing still lets alice in`);
        await setKeys(`expiry-time="${value}" ${alice.publicKey}`);
        assert.equal(await query(alice), false, `expiry-time="${value}" alone refuses alice`);
      }
    });

    test("keyfleet's own line (issue 19): the block it writes with an expiry lets the key in before it and refuses it after", async () => {
      const block = (key: Key, at: Date) =>
        planAuthorizedKeys('# hand\n', [
          { keyPairName: 'kp', publicKey: key.publicKey, expiresAt: at },
        ]).content.trimEnd();
      await setKeys(block(alice, new Date(Date.UTC(2000, 0, 1))));
      assert.equal(await query(alice), false, 'expired in 2000');
      await setKeys(block(bob, new Date(Date.UTC(2999, 0, 1, 12, 30, 15))));
      assert.equal(await query(bob), true, 'valid until 2999');
      assert.equal((await run(bob, 'echo ok')).code, 0);
    });

    test('from="pattern-list": the client address must match, a negated match refuses', async () => {
      const allowed = ['127.0.0.1', '127.0.0.*', '127.0.0.0/8', '!10.0.0.1,127.*', '10.0.0.1,127.0.0.1', '*'];
      // 127.0.0.1/8 and /33 are malformed blocks (host bits set, mask too long): the whole list is an error.
      const refused = [
        '10.9.8.7',
        '127.0.0.2',
        '10.0.0.0/8',
        '!127.0.0.1,*',
        '127.*,!127.0.0.1',
        '127.0.0.1/33',
        '127.0.0.1/8',
        '*,127.0.0.1/8',
      ];
      for (const pattern of allowed) {
        await setKeys(`from="${pattern}" ${alice.publicKey}`);
        assert.equal(await query(alice), true, `from="${pattern}" allows 127.0.0.1`);
      }
      for (const pattern of refused) {
        await setKeys(`from="${pattern}" ${alice.publicKey}`);
        assert.equal(await query(alice), false, `from="${pattern}" refuses 127.0.0.1`);
      }
      await setKeys(`from="127.0.0.1" ${alice.publicKey}`);
      assert.equal((await run(alice, 'echo ok')).code, 0);
    });

    test('command="…": the forced command runs instead of the one asked for', async () => {
      await setKeys(`command="echo forced" ${alice.publicKey}`);
      const r = await run(alice, 'echo hi');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'forced\n');
      await setKeys(`command="echo \\"quoted words\\"",no-pty ${alice.publicKey}`);
      const quoted = await run(alice, 'echo hi');
      assert.equal(quoted.stdout, 'quoted words\n');
    });

    test('a pty is granted by default and refused with no-pty or restrict (restrict,pty grants it again)', async () => {
      const ptyFor = async (options: string) => {
        await setKeys(`${options}${alice.publicKey}`);
        return execWithPty(ep(), alice.privateKeyPath, 'echo hi');
      };
      assert.deepEqual(await ptyFor(''), { ptyGranted: true, output: 'hi\r\n' });
      assert.deepEqual(await ptyFor('no-pty '), { ptyGranted: false, output: 'hi\n' });
      assert.deepEqual(await ptyFor('restrict '), { ptyGranted: false, output: 'hi\n' });
      assert.deepEqual(await ptyFor('restrict,pty '), { ptyGranted: true, output: 'hi\r\n' });
      assert.deepEqual(await ptyFor('command="echo forced",restrict '), { ptyGranted: false, output: 'forced\n' });
    });

    test('an unknown option makes the line invalid; environment= is accepted and ignored (PermitUserEnvironment no)', async () => {
      await setKeys(
        `frobnicate ${bob.publicKey}`,
        `no-frob="x" ${bob.publicKey}`,
        `environment="LANG=C" ${alice.publicKey}`,
      );
      assert.equal(await query(bob), false);
      assert.equal(await query(alice), true);
    });

    test('KNOWN DIFFERENCE: environment= under PermitUserEnvironment yes is not simulated, so the simulation refuses the key', async () => {
      await h.t.writeDropIn('50-env.conf', 'PermitUserEnvironment yes\n');
      await h.t.reload();
      await setKeys(
        `environment="KF_CONTRACT=1" ${alice.publicKey}`,
        `no-port-forwarding,verify-required ${bob.publicKey}`,
      );
      // OpenSSH sets the variable for the session; the simulated sshd fails closed instead of ignoring the option.
      assert.equal(await query(alice), h.t.name !== 'simulated sshd');
      assert.equal(await query(bob), true, 'options that only restrict what the simulation lacks are accepted by both');
    });

    test('option parsing: duplicates, bad values, stray commas, cert-authority, principals, inert restrictions', async () => {
      const verdicts = async (...optionFields: string[]) => {
        const out: Record<string, boolean> = {};
        for (const options of optionFields) {
          await setKeys(`${options} ${alice.publicKey}`);
          out[options] = await query(alice);
        }
        return out;
      };
      assert.deepEqual(
        await verdicts(
          'command="a",command="b"',
          'from="127.0.0.1",from="127.0.0.1"',
          'expiry-time="29990101Z",expiry-time="20000101Z"',
          'environment="NO_EQUALS"',
          'environment="BAD-NAME=1"',
          'cert-authority',
          'principals="alice"',
          'principals="a",principals="b"',
          'no-agent-forwarding,no-port-forwarding,no-X11-forwarding,no-user-rc,permitopen="localhost:80",permitlisten="8080",tunnel="1"',
          'no-pty,',
          ',no-pty',
          ',,pty,,',
          'no-ptyx',
          'no-restrict',
          'no-cert-authority',
          'no-verify-required,no-touch-required,touch-required',
        ),
        {
          'command="a",command="b"': false,
          'from="127.0.0.1",from="127.0.0.1"': false,
          'expiry-time="29990101Z",expiry-time="20000101Z"': false,
          'environment="NO_EQUALS"': false,
          'environment="BAD-NAME=1"': false,
          'cert-authority': false,
          'principals="alice"': false,
          'principals="a",principals="b"': false,
          'no-agent-forwarding,no-port-forwarding,no-X11-forwarding,no-user-rc,permitopen="localhost:80",permitlisten="8080",tunnel="1"': true,
          // sshauthopt_parse skips an empty option: stray commas are harmless, a flag with a tail is not.
          'no-pty,': true,
          ',no-pty': true,
          ',,pty,,': true,
          'no-ptyx': false,
          'no-restrict': false,
          'no-cert-authority': false,
          'no-verify-required,no-touch-required,touch-required': true,
        },
      );
    });

    test('a forced command sees the command asked for in SSH_ORIGINAL_COMMAND', async () => {
      await setKeys(`command="echo was: $SSH_ORIGINAL_COMMAND" ${alice.publicKey}`);
      const r = await run(alice, 'id -un');
      assert.equal(r.stdout, 'was: id -un\n');
    });

    test('option names are case-insensitive', async () => {
      await setKeys(`COMMAND="echo forced",From="127.0.0.1" ${alice.publicKey}`);
      const r = await run(alice, 'echo hi');
      assert.equal(r.stdout, 'forced\n');
    });
  });
});
