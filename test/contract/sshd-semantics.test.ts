/**
 * One sshd semantics contract, run against both the simulated sshd and Debian's OpenSSH sshd (sshd-targets.ts,
 * sshd-contract.ts): every case sets files the same way on both and asserts the same outcome through a real client
 * (OpenSSH's `ssh`, or ssh2's Client where a publickey query, the methods list, a keyboard-interactive prompt or a
 * pty request must be observed). A case that passes on OpenSSH and fails on the simulation is a drift of the
 * simulation. This file: which keys are read and when, the methods offered, config precedence, who may log in.
 * The authorized_keys options are in sshd-key-options.test.ts.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { sshKeygen } from '../support/openssh.js';
import { onEachTarget, type Key } from './sshd-contract.js';
import { failuresUntilDisconnect, keyboardInteractiveLogin, keyThenPassword, methodsAfterNone } from './sshd-probes.js';

let alice: Key;
let bob: Key;
before(async () => {
  [alice, bob] = await Promise.all([sshKeygen('ed25519', 'alice'), sshKeygen('ed25519', 'bob')]);
});

onEachTarget((h) => {
  const { ep, query, run, withPassword, keyBody, setKeys } = h;

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
      await h.t.setAuthorizedKeys(
        `# managed by hand\n\n   \n#${bob.publicKey}\n  \t${keyBody(alice)} a comment with spaces\r\n`,
      );
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
    test("by default: publickey and password, in OpenSSH's order", async () => {
      assert.deepEqual(await methodsAfterNone(ep()), ['publickey', 'password']);
    });

    test('PasswordAuthentication no in a drop-in: password is not offered and a correct password is refused', async () => {
      const before = await withPassword('echo in');
      assert.equal(before.code, 0, before.stderr);
      await h.t.writeDropIn('50-no-password.conf', 'PasswordAuthentication no\n');
      await h.t.reload();
      assert.deepEqual(await methodsAfterNone(ep()), ['publickey']);
      const after = await withPassword('echo in');
      assert.equal(after.code, 255);
      assert.match(after.stderr, /Permission denied \(publickey\)/);
    });

    test('KbdInteractiveAuthentication yes (or its old name ChallengeResponseAuthentication) offers keyboard-interactive', async () => {
      // The first of the two names read wins, as they are one keyword.
      await h.t.writeDropIn('50-kbd.conf', 'KbdInteractiveAuthentication yes\n');
      await h.t.reload();
      assert.deepEqual(await methodsAfterNone(ep()), ['publickey', 'password', 'keyboard-interactive']);
      await h.t.writeDropIn('50-kbd.conf', 'ChallengeResponseAuthentication yes\nKbdInteractiveAuthentication no\n');
      await h.t.reload();
      assert.deepEqual(await methodsAfterNone(ep()), ['publickey', 'password', 'keyboard-interactive']);
    });

    test("UsePAM yes: keyboard-interactive asks PAM's one Password: prompt and logs in, even under PasswordAuthentication no", async () => {
      await h.t.writeDropIn('10-pam.conf', 'UsePAM yes\nKbdInteractiveAuthentication yes\nPasswordAuthentication no\n');
      await h.t.reload();
      assert.deepEqual(await methodsAfterNone(ep()), ['publickey', 'keyboard-interactive']);
      const passwordPrompt = [{ prompt: 'Password: ', echo: false }];
      assert.deepEqual(await keyboardInteractiveLogin(ep(), h.t.password), { loggedIn: true, prompts: passwordPrompt });
      assert.deepEqual(await keyboardInteractiveLogin(ep(), 'not the password'), {
        loggedIn: false,
        prompts: passwordPrompt,
      });
      assert.deepEqual(await keyboardInteractiveLogin({ ...ep(), user: 'no-such-user' }, h.t.password), {
        loggedIn: false,
        prompts: passwordPrompt,
      });
    });

    test('UsePAM no: keyboard-interactive is offered but has no device to ask with, so it never logs in', async () => {
      await h.t.writeDropIn('10-pam.conf', 'UsePAM no\nKbdInteractiveAuthentication yes\n');
      await h.t.reload();
      assert.deepEqual(await methodsAfterNone(ep()), ['publickey', 'password', 'keyboard-interactive']);
      assert.deepEqual(await keyboardInteractiveLogin(ep(), h.t.password), { loggedIn: false, prompts: [] });
    });

    test('AuthenticationMethods publickey,password: the key is a partial success and only then is password offered', async () => {
      await setKeys(alice.publicKey);
      await h.t.writeDropIn('50-two-factors.conf', 'AuthenticationMethods publickey,password\n');
      await h.t.reload();
      assert.deepEqual(await methodsAfterNone(ep()), ['publickey']);
      const keyOnly = await run(alice, 'true');
      assert.equal(keyOnly.code, 255, 'the key alone does not log in');
      assert.deepEqual(await keyThenPassword(ep(), alice.privateKeyPath, h.t.password), {
        loggedIn: true,
        afterKey: { partial: true, methods: ['password'] },
      });
      assert.deepEqual(await keyThenPassword(ep(), alice.privateKeyPath, 'wrong'), {
        loggedIn: false,
        afterKey: { partial: true, methods: ['password'] },
      });
      assert.deepEqual(await keyThenPassword(ep(), bob.privateKeyPath, h.t.password), {
        loggedIn: false,
        afterKey: { partial: false, methods: ['publickey'] },
      });
    });

    test('MaxAuthTries: the attempt that reaches the limit is answered by a disconnect, not a failure', async () => {
      await h.t.writeDropIn('50-tries.conf', 'MaxAuthTries 3\n');
      await h.t.reload();
      assert.deepEqual(await failuresUntilDisconnect(ep(), 10), {
        failures: 2,
        error: 'Too many authentication failures',
      });
    });

    test('the list does not depend on the account: an unknown user, and root under PermitRootLogin prohibit-password, see it all', async () => {
      await h.t.writeDropIn('50-root.conf', 'PermitRootLogin prohibit-password\n');
      await h.t.reload();
      assert.deepEqual(await methodsAfterNone({ ...ep(), user: 'root' }), ['publickey', 'password']);
      assert.deepEqual(await methodsAfterNone({ ...ep(), user: 'no-such-user' }), ['publickey', 'password']);
    });

    test('PubkeyAuthentication no: only password is offered and a listed key is refused', async () => {
      await setKeys(alice.publicKey);
      await h.t.writeDropIn('50-no-pubkey.conf', 'pubkeyauthentication=no\n');
      await h.t.reload();
      assert.deepEqual(await methodsAfterNone(ep()), ['password']);
      assert.equal(await query(alice), false);
    });
  });

  describe('drop-in precedence: the first value obtained wins', () => {
    const passwordOffered = async () => (await methodsAfterNone(ep())).includes('password');

    test('10-a.conf is read before 50-b.conf', async () => {
      await h.t.writeDropIn('10-a.conf', 'PasswordAuthentication no\n');
      await h.t.writeDropIn('50-b.conf', 'PasswordAuthentication yes\n');
      await h.t.reload();
      assert.equal(await passwordOffered(), false);
      await h.t.writeDropIn('10-a.conf', 'PasswordAuthentication yes\n');
      await h.t.writeDropIn('50-b.conf', 'PasswordAuthentication no\n');
      await h.t.reload();
      assert.equal(await passwordOffered(), true);
    });

    test("a drop-in beats the main file's later line; a main-file line above the Include beats the drop-in", async () => {
      await h.t.writeDropIn('50-b.conf', 'PasswordAuthentication no\n');
      await h.t.reload();
      assert.equal(await passwordOffered(), false, "the drop-in's no wins over the main file's yes below the Include");
      await h.t.prependMainConfig('PasswordAuthentication yes');
      await h.t.reload();
      assert.equal(await passwordOffered(), true, 'a line above the Include is read first');
    });

    test('files not ending in .conf are not included', async () => {
      await h.t.writeDropIn('10-a.conf.disabled', 'PasswordAuthentication no\n');
      await h.t.reload();
      assert.equal(await passwordOffered(), true);
    });
  });

  describe('AuthorizedKeysFile', () => {
    const configureKeysFiles = async (value: string) => {
      await h.t.writeDropIn('50-keys.conf', `AuthorizedKeysFile ${value}\n`);
      await h.t.reload();
    };

    test('another file replaces authorized_keys; several files are all read; none reads nothing', async () => {
      await setKeys(alice.publicKey);
      await h.t.writeSshFile('other_keys', `${bob.publicKey}\n`);
      await configureKeysFiles('.ssh/other_keys');
      assert.deepEqual([await query(alice), await query(bob)], [false, true]);
      await configureKeysFiles('.ssh/authorized_keys .ssh/other_keys');
      assert.deepEqual([await query(alice), await query(bob)], [true, true]);
      await configureKeysFiles('none');
      assert.deepEqual([await query(alice), await query(bob)], [false, false]);
    });

    test('%h, %u and %% expand; a missing file is simply skipped', async () => {
      await h.t.writeSshFile(`keys_${h.t.user}_%`, `${alice.publicKey}\n`);
      await configureKeysFiles('.ssh/missing %h/.ssh/keys_%u_%%');
      assert.equal(await query(alice), true);
    });
  });

  test('RevokedKeys: a listed key is refused; an unreadable file refuses every key; none checks nothing', async () => {
    await setKeys(alice.publicKey, bob.publicKey);
    const revoked = await h.t.writeConfigFile('revoked.keys', `# revoked\n${bob.publicKey}\n`);
    const configureRevokedKeys = async (value: string) => {
      await h.t.writeDropIn('50-revoked.conf', `RevokedKeys ${value}\n`);
      await h.t.reload();
      return [await query(alice), await query(bob)];
    };
    assert.deepEqual(await configureRevokedKeys(revoked), [true, false]);
    assert.deepEqual(await configureRevokedKeys(`${revoked}.missing`), [false, false]);
    assert.deepEqual(await configureRevokedKeys('none'), [true, true]);
  });

  describe('AllowUsers, DenyUsers, AllowGroups, DenyGroups', () => {
    const accessFor = async (dropIn: string) => {
      await h.t.writeDropIn('50-access.conf', `${dropIn}\n`);
      await h.t.reload();
      return { key: await query(alice), password: (await withPassword('true')).code === 0 };
    };
    const allowed = { key: true, password: true };
    const refused = { key: false, password: false };

    test('a denied account can log in by no method, yet is offered the same methods', async () => {
      await setKeys(alice.publicKey);
      assert.deepEqual(await accessFor(`DenyUsers ${h.t.user}`), refused);
      assert.deepEqual(await methodsAfterNone(ep()), ['publickey', 'password']);
      assert.deepEqual(await accessFor(`DenyUsers someone-else ${h.t.user.slice(0, 2)}*`), refused, 'wildcards');
      assert.deepEqual(await accessFor('DenyUsers someone-else'), allowed);
    });

    test('USER@HOST patterns match the client address', async () => {
      await setKeys(alice.publicKey);
      assert.deepEqual(await accessFor(`DenyUsers ${h.t.user}@127.0.0.1`), refused);
      assert.deepEqual(await accessFor(`DenyUsers ${h.t.user}@10.0.0.*`), allowed);
      assert.deepEqual(await accessFor(`AllowUsers nobody ${h.t.user}@127.0.0.0/8`), allowed);
    });

    test("groups: the user's primary group is matched by name", async () => {
      await setKeys(alice.publicKey);
      assert.deepEqual(await accessFor(`DenyGroups ${h.t.group}`), refused);
      assert.deepEqual(await accessFor('DenyGroups no-such-group'), allowed);
      assert.deepEqual(await accessFor('AllowGroups no-such-group'), refused);
      assert.deepEqual(await accessFor(`AllowGroups no-such-group ${h.t.group}`), allowed);
    });
  });

  describe('StrictModes (on by default)', () => {
    test('a world-writable authorized_keys or ~/.ssh refuses the key; group-writable is fine for a private group', async () => {
      await h.t.setAuthorizedKeys(`${alice.publicKey}\n`, 0o644);
      assert.equal(await query(alice), true, 'control: 0644 is fine');
      // Debian's patch to secure_permissions: group-writable is harmless when the user is the group's only member.
      await h.t.setAuthorizedKeys(`${alice.publicKey}\n`, 0o664);
      assert.equal(await query(alice), true, "group-writable file, the user's private group");
      await h.t.chmodSshDir(0o770);
      assert.equal(await query(alice), true, "group-writable ~/.ssh, the user's private group");
      await h.t.chmodSshDir(0o700);
      await h.t.setAuthorizedKeys(`${alice.publicKey}\n`, 0o602);
      assert.equal(await query(alice), false, 'world-writable file');
      await h.t.setAuthorizedKeys(`${alice.publicKey}\n`, 0o600);
      await h.t.chmodSshDir(0o777);
      assert.equal(await query(alice), false, 'world-writable ~/.ssh');
      await h.t.chmodSshDir(0o755);
      assert.equal(await query(alice), true, 'control: ~/.ssh 0755 is fine');
    });

    test('StrictModes no accepts the same key from a world-writable file', async () => {
      await h.t.writeDropIn('50-lax.conf', 'StrictModes no\n');
      await h.t.reload();
      await h.t.setAuthorizedKeys(`${alice.publicKey}\n`, 0o666);
      assert.equal(await query(alice), true);
    });
  });

  test('restart: the same files give the same answers after sshd restarts', async () => {
    await setKeys(alice.publicKey);
    await h.t.restart();
    assert.equal(await query(alice), true);
    assert.equal(await query(bob), false);
  });
});
