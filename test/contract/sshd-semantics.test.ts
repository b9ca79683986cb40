/**
 * One sshd semantics contract, run against both the simulated sshd and Debian's OpenSSH sshd (see sshd-targets.ts):
 * every case sets files the same way on both and asserts the same outcome through a real client (OpenSSH's `ssh`,
 * or ssh2's Client where a publickey query, the methods list or a pty request must be observed). A case that
 * passes on OpenSSH and fails on the simulation is a drift of the simulation.
 *
 * Known, tested difference: the simulated sshd refuses a key line carrying an option it does not simulate (so it
 * fails closed); OpenSSH applies it. Those options are listed in src/backends/sim/sshd-key-options.ts; the case
 * "an option the simulation does not implement" pins both behaviours.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { sshKeygen, sshRun } from '../support/openssh.js';
import { execWithPty, failuresUntilDisconnect, keyboardInteractiveLogin, methodsAfterNone, publickeyQueryAccepted } from './sshd-probes.js';
import { startTargets, type SshdTarget } from './sshd-targets.js';

type Key = { privateKeyPath: string; publicKey: string };

let targets: SshdTarget[] = [];
let alice: Key;
let bob: Key;

before(async () => {
  [alice, bob] = await Promise.all([sshKeygen('ed25519', 'alice'), sshKeygen('ed25519', 'bob')]);
  targets = await startTargets();
});

after(async () => {
  await Promise.all(targets.map((t) => t.close()));
});

/** The targets exist only once `before` has run, so the cases are declared per target name and look it up. */
for (const name of ['simulated sshd', 'Debian OpenSSH sshd']) {
  describe(name, () => {
    let t: SshdTarget;
    beforeEach(async () => {
      t = targets.find((candidate) => candidate.name === name)!;
      await t.reset();
    });

    const ep = () => ({ address: t.address, port: t.port, user: t.user });
    const query = (key: Key) => publickeyQueryAccepted(ep(), key.publicKey);
    const run = (key: Key, command: string) => sshRun({ host: t.address, port: t.port, user: t.user, identityFile: key.privateKeyPath, command });
    const withPassword = (command: string) => sshRun({ host: t.address, port: t.port, user: t.user, password: t.password, command });
    const keyBody = (key: Key) => key.publicKey.split(' ').slice(0, 2).join(' ');
    const setKeys = (...lines: string[]) => t.setAuthorizedKeys(lines.join('\n') + '\n');

    describe('publickey queries', () => {
      test('a listed key gets PK_OK without signing and logs in; an unlisted key is refused before any signature', async () => {
        await setKeys(alice.publicKey);
        assert.equal(await query(alice), true);
        assert.equal(await query(bob), false);
        const ok = await run(alice, 'echo ok');
        assert.equal(ok.code, 0, ok.stderr);
        assert.equal(ok.stdout, 'ok\n');
        const refused = await run(bob, 'echo ok');
        assert.equal(refused.code, 255);
        assert.match(refused.stderr, /Permission denied \(publickey,password\)/);
      });

      test('a key listed twice is accepted', async () => {
        await setKeys(alice.publicKey, alice.publicKey);
        assert.equal(await query(alice), true);
        assert.equal((await run(alice, 'echo ok')).code, 0);
      });

      test('comments, blank lines, indentation and CRLF are ignored', async () => {
        await t.setAuthorizedKeys(`# managed by hand\n\n   \n#${bob.publicKey}\n  \t${keyBody(alice)} a comment with spaces\r\n`);
        assert.equal(await query(alice), true);
        assert.equal(await query(bob), false, 'a commented-out key is not a key');
      });

      test('a malformed line is skipped and later lines still work', async () => {
        const [type, base64] = keyBody(bob).split(' ') as [string, string];
        await setKeys(
          `${type} ${base64.slice(0, 20)}`, // truncated key
          `${type} !!!notbase64!!!`,
          `command="echo unterminated ${bob.publicKey}`, // unterminated option quote
          `ssh-rsa ${base64}`, // the blob names another type than the line
          alice.publicKey,
        );
        assert.equal(await query(bob), false);
        assert.equal(await query(alice), true);
        assert.equal((await run(alice, 'echo ok')).code, 0);
      });

      test('a listing whose options refuse this client is skipped and a later listing of the same key decides', async () => {
        await setKeys(`from="10.9.8.7" ${alice.publicKey}`, `command="echo second listing" ${alice.publicKey}`);
        assert.equal(await query(alice), true);
        const r = await run(alice, 'echo asked');
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, 'second listing\n');
      });
    });

    describe('methods offered', () => {
      test('by default: publickey and password, in OpenSSH\'s order', async () => {
        assert.deepEqual(await methodsAfterNone(ep()), ['publickey', 'password']);
      });

      test('PasswordAuthentication no in a drop-in: password is not offered and a correct password is refused', async () => {
        const before = await withPassword('echo in');
        assert.equal(before.code, 0, before.stderr);
        await t.writeDropIn('50-no-password.conf', 'PasswordAuthentication no\n');
        await t.reload();
        assert.deepEqual(await methodsAfterNone(ep()), ['publickey']);
        const after = await withPassword('echo in');
        assert.equal(after.code, 255);
        assert.match(after.stderr, /Permission denied \(publickey\)/);
      });

      test('KbdInteractiveAuthentication yes (or its old name ChallengeResponseAuthentication) offers keyboard-interactive', async () => {
        // The first of the two names read wins, as they are one keyword.
        await t.writeDropIn('50-kbd.conf', 'KbdInteractiveAuthentication yes\n');
        await t.reload();
        assert.deepEqual(await methodsAfterNone(ep()), ['publickey', 'password', 'keyboard-interactive']);
        await t.writeDropIn('50-kbd.conf', 'ChallengeResponseAuthentication yes\nKbdInteractiveAuthentication no\n');
        await t.reload();
        assert.deepEqual(await methodsAfterNone(ep()), ['publickey', 'password', 'keyboard-interactive']);
      });

      test('UsePAM yes: keyboard-interactive asks PAM\'s one Password: prompt and logs in, even under PasswordAuthentication no', async () => {
        await t.writeDropIn('10-pam.conf', 'UsePAM yes\nKbdInteractiveAuthentication yes\nPasswordAuthentication no\n');
        await t.reload();
        assert.deepEqual(await methodsAfterNone(ep()), ['publickey', 'keyboard-interactive']);
        const passwordPrompt = [{ prompt: 'Password: ', echo: false }];
        assert.deepEqual(await keyboardInteractiveLogin(ep(), t.password), { loggedIn: true, prompts: passwordPrompt });
        assert.deepEqual(await keyboardInteractiveLogin(ep(), 'not the password'), { loggedIn: false, prompts: passwordPrompt });
        assert.deepEqual(await keyboardInteractiveLogin({ ...ep(), user: 'no-such-user' }, t.password), { loggedIn: false, prompts: passwordPrompt });
      });

      test('UsePAM no: keyboard-interactive is offered but has no device to ask with, so it never logs in', async () => {
        await t.writeDropIn('10-pam.conf', 'UsePAM no\nKbdInteractiveAuthentication yes\n');
        await t.reload();
        assert.deepEqual(await methodsAfterNone(ep()), ['publickey', 'password', 'keyboard-interactive']);
        assert.deepEqual(await keyboardInteractiveLogin(ep(), t.password), { loggedIn: false, prompts: [] });
      });

      test('MaxAuthTries: the attempt that reaches the limit is answered by a disconnect, not a failure', async () => {
        await t.writeDropIn('50-tries.conf', 'MaxAuthTries 3\n');
        await t.reload();
        assert.deepEqual(await failuresUntilDisconnect(ep(), 10), { failures: 2, error: 'Too many authentication failures' });
      });

      test('the list does not depend on the account: an unknown user, and root under PermitRootLogin prohibit-password, see it all', async () => {
        await t.writeDropIn('50-root.conf', 'PermitRootLogin prohibit-password\n');
        await t.reload();
        assert.deepEqual(await methodsAfterNone({ ...ep(), user: 'root' }), ['publickey', 'password']);
        assert.deepEqual(await methodsAfterNone({ ...ep(), user: 'no-such-user' }), ['publickey', 'password']);
      });

      test('PubkeyAuthentication no: only password is offered and a listed key is refused', async () => {
        await setKeys(alice.publicKey);
        await t.writeDropIn('50-no-pubkey.conf', 'pubkeyauthentication=no\n');
        await t.reload();
        assert.deepEqual(await methodsAfterNone(ep()), ['password']);
        assert.equal(await query(alice), false);
      });
    });

    describe('drop-in precedence: the first value obtained wins', () => {
      const passwordOffered = async () => (await methodsAfterNone(ep())).includes('password');

      test('10-a.conf is read before 50-b.conf', async () => {
        await t.writeDropIn('10-a.conf', 'PasswordAuthentication no\n');
        await t.writeDropIn('50-b.conf', 'PasswordAuthentication yes\n');
        await t.reload();
        assert.equal(await passwordOffered(), false);
        await t.writeDropIn('10-a.conf', 'PasswordAuthentication yes\n');
        await t.writeDropIn('50-b.conf', 'PasswordAuthentication no\n');
        await t.reload();
        assert.equal(await passwordOffered(), true);
      });

      test('a drop-in beats the main file\'s later line; a main-file line above the Include beats the drop-in', async () => {
        await t.writeDropIn('50-b.conf', 'PasswordAuthentication no\n');
        await t.reload();
        assert.equal(await passwordOffered(), false, 'the drop-in\'s no wins over the main file\'s yes below the Include');
        await t.prependMainConfig('PasswordAuthentication yes');
        await t.reload();
        assert.equal(await passwordOffered(), true, 'a line above the Include is read first');
      });

      test('files not ending in .conf are not included', async () => {
        await t.writeDropIn('10-a.conf.disabled', 'PasswordAuthentication no\n');
        await t.reload();
        assert.equal(await passwordOffered(), true);
      });
    });

    describe('AuthorizedKeysFile', () => {
      const useKeysFiles = async (value: string) => {
        await t.writeDropIn('50-keys.conf', `AuthorizedKeysFile ${value}\n`);
        await t.reload();
      };

      test('another file replaces authorized_keys; several files are all read; none reads nothing', async () => {
        await setKeys(alice.publicKey);
        await t.writeSshFile('other_keys', `${bob.publicKey}\n`);
        await useKeysFiles('.ssh/other_keys');
        assert.deepEqual([await query(alice), await query(bob)], [false, true]);
        await useKeysFiles('.ssh/authorized_keys .ssh/other_keys');
        assert.deepEqual([await query(alice), await query(bob)], [true, true]);
        await useKeysFiles('none');
        assert.deepEqual([await query(alice), await query(bob)], [false, false]);
      });

      test('%h, %u and %% expand; a missing file is simply skipped', async () => {
        await t.writeSshFile(`keys_${t.user}_%`, `${alice.publicKey}\n`);
        await useKeysFiles('.ssh/missing %h/.ssh/keys_%u_%%');
        assert.equal(await query(alice), true);
      });
    });

    describe('AllowUsers, DenyUsers, AllowGroups, DenyGroups', () => {
      const accessFor = async (dropIn: string) => {
        await t.writeDropIn('50-access.conf', `${dropIn}\n`);
        await t.reload();
        return { key: await query(alice), password: (await withPassword('true')).code === 0 };
      };
      const allowed = { key: true, password: true };
      const refused = { key: false, password: false };

      test('a denied account can log in by no method, yet is offered the same methods', async () => {
        await setKeys(alice.publicKey);
        assert.deepEqual(await accessFor(`DenyUsers ${t.user}`), refused);
        assert.deepEqual(await methodsAfterNone(ep()), ['publickey', 'password']);
        assert.deepEqual(await accessFor(`DenyUsers someone-else ${t.user.slice(0, 2)}*`), refused, 'wildcards');
        assert.deepEqual(await accessFor('DenyUsers someone-else'), allowed);
      });

      test('USER@HOST patterns match the client address', async () => {
        await setKeys(alice.publicKey);
        assert.deepEqual(await accessFor(`DenyUsers ${t.user}@127.0.0.1`), refused);
        assert.deepEqual(await accessFor(`DenyUsers ${t.user}@10.0.0.*`), allowed);
        assert.deepEqual(await accessFor(`AllowUsers nobody ${t.user}@127.0.0.0/8`), allowed);
      });

      test('groups: the user\'s primary group is matched by name', async () => {
        await setKeys(alice.publicKey);
        assert.deepEqual(await accessFor(`DenyGroups ${t.group}`), refused);
        assert.deepEqual(await accessFor('DenyGroups no-such-group'), allowed);
        assert.deepEqual(await accessFor('AllowGroups no-such-group'), refused);
        assert.deepEqual(await accessFor(`AllowGroups no-such-group ${t.group}`), allowed);
      });
    });

    describe('StrictModes (on by default)', () => {
      test('a world-writable authorized_keys or ~/.ssh refuses the key; group-writable is fine for a private group', async () => {
        await t.setAuthorizedKeys(`${alice.publicKey}\n`, 0o644);
        assert.equal(await query(alice), true, 'control: 0644 is fine');
        // Debian's patch to secure_permissions: group-writable is harmless when the user is the group's only member.
        await t.setAuthorizedKeys(`${alice.publicKey}\n`, 0o664);
        assert.equal(await query(alice), true, 'group-writable file, the user\'s private group');
        await t.chmodSshDir(0o770);
        assert.equal(await query(alice), true, 'group-writable ~/.ssh, the user\'s private group');
        await t.chmodSshDir(0o700);
        await t.setAuthorizedKeys(`${alice.publicKey}\n`, 0o602);
        assert.equal(await query(alice), false, 'world-writable file');
        await t.setAuthorizedKeys(`${alice.publicKey}\n`, 0o600);
        await t.chmodSshDir(0o777);
        assert.equal(await query(alice), false, 'world-writable ~/.ssh');
        await t.chmodSshDir(0o755);
        assert.equal(await query(alice), true, 'control: ~/.ssh 0755 is fine');
      });

      test('StrictModes no accepts the same key from a world-writable file', async () => {
        await t.writeDropIn('50-lax.conf', 'StrictModes no\n');
        await t.reload();
        await t.setAuthorizedKeys(`${alice.publicKey}\n`, 0o666);
        assert.equal(await query(alice), true);
      });
    });

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

      test('from="pattern-list": the client address must match, a negated match refuses', async () => {
        const allowed = ['127.0.0.1', '127.0.0.*', '127.0.0.0/8', '!10.0.0.1,127.*', '10.0.0.1,127.0.0.1', '*'];
        // 127.0.0.1/8 and /33 are malformed blocks (host bits set, mask too long): the whole list is an error.
        const refused = ['10.9.8.7', '127.0.0.2', '10.0.0.0/8', '!127.0.0.1,*', '127.*,!127.0.0.1', '127.0.0.1/33', '127.0.0.1/8', '*,127.0.0.1/8'];
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
        await setKeys(`frobnicate ${bob.publicKey}`, `no-frob="x" ${bob.publicKey}`, `environment="LANG=C" ${alice.publicKey}`);
        assert.equal(await query(bob), false);
        assert.equal(await query(alice), true);
      });

      test('KNOWN DIFFERENCE: environment= under PermitUserEnvironment yes is not simulated, so the simulation refuses the key', async () => {
        await t.writeDropIn('50-env.conf', 'PermitUserEnvironment yes\n');
        await t.reload();
        await setKeys(`environment="KF_CONTRACT=1" ${alice.publicKey}`, `no-port-forwarding,verify-required ${bob.publicKey}`);
        // OpenSSH sets the variable for the session; the simulated sshd fails closed instead of ignoring the option.
        assert.equal(await query(alice), t.name !== 'simulated sshd');
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
            'command="a",command="b"', 'from="127.0.0.1",from="127.0.0.1"', 'expiry-time="29990101Z",expiry-time="20000101Z"',
            'environment="NO_EQUALS"', 'environment="BAD-NAME=1"', 'cert-authority', 'principals="alice"', 'principals="a",principals="b"',
            'no-agent-forwarding,no-port-forwarding,no-X11-forwarding,no-user-rc,permitopen="localhost:80",permitlisten="8080",tunnel="1"',
            'no-pty,', ',no-pty', ',,pty,,', 'no-ptyx', 'no-restrict', 'no-cert-authority', 'no-verify-required,no-touch-required,touch-required',
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

    test('restart: the same files give the same answers after sshd restarts', async () => {
      await setKeys(alice.publicKey);
      await t.restart();
      assert.equal(await query(alice), true);
      assert.equal(await query(bob), false);
    });
  });
}
