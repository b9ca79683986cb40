/**
 * One SSH session channel on a simulated instance after login: `exec` runs the command vocabulary once, `shell`
 * runs it line by line (with a minimal line discipline when the client asked for a terminal, so an interactive
 * `ssh host` behaves), and the `sftp` subsystem serves files. A `command="…"` option on the key that logged in
 * replaces whatever the client asked for, as sshd's forced commands do; `no-pty` or `restrict` refuse a terminal.
 * With a terminal there is one output stream and the tty turns each newline into CR LF, as a pty does.
 */
import type { ServerChannel, Session } from 'ssh2';
import type { DiskQuota } from './disk-quota.js';
import { readGuestHostname } from './guest-file-limits.js';
import { runCommandLine, type CommandContext } from './sshd-commands.js';
import type { GuestUser } from './sshd-passwd.js';
import { serveSftp } from './sshd-sftp.js';

export interface LoggedIn {
  rootDir: string;
  /** The fleet's disk quota, which SFTP's writes are charged to. */
  quota: DiskQuota;
  user: GuestUser;
  forcedCommand: string | null;
  ptyAllowed: boolean;
}

export function serveSession(session: Session, login: LoggedIn): void {
  let terminal = false;
  const context: CommandContext = { rootDir: login.rootDir, user: login.user, cwd: login.user.home };

  session.on('pty', (accept, reject) => {
    if (!login.ptyAllowed) return reject?.();
    terminal = true;
    accept?.();
  });
  session.on('window-change', (accept) => accept?.());
  session.on('env', (accept) => accept?.());

  session.on('exec', (accept, _reject, info) => {
    const channel = quiet(accept());
    // As sshd: the forced command runs instead, and finds what was asked for in SSH_ORIGINAL_COMMAND.
    const forced = login.forcedCommand !== null;
    const env: Record<string, string> = forced ? { SSH_ORIGINAL_COMMAND: info.command } : {};
    void runOnce(channel, login.forcedCommand ?? info.command, { ...context, env }, terminal);
  });

  session.on('shell', (accept) => {
    const channel = quiet(accept());
    if (login.forcedCommand !== null) void runOnce(channel, login.forcedCommand, context, terminal);
    else void runShell(channel, context, terminal);
  });

  session.on('sftp', (accept, reject) => {
    if (login.forcedCommand !== null) return reject();
    const sftp = accept();
    sftp.on('error', () => {});
    serveSftp(sftp, { rootDir: login.rootDir, home: login.user.home, quota: login.quota });
  });
}

/** A client that disconnects mid-command makes later writes fail; that is its business, not a server crash. */
function quiet(channel: ServerChannel): ServerChannel {
  channel.on('error', () => {});
  channel.stderr.on('error', () => {});
  return channel;
}

async function runOnce(
  channel: ServerChannel,
  command: string,
  context: CommandContext,
  terminal: boolean,
): Promise<void> {
  const result = await runCommandLine(command, context).catch(() => ({
    code: 1,
    stdout: Buffer.alloc(0),
    stderr: Buffer.from('sh: 1: internal error\n'),
  }));
  if (terminal) {
    const both = Buffer.concat([result.stdout, result.stderr]);
    if (both.length > 0) channel.write(toTerminal(both));
  } else {
    if (result.stdout.length > 0) channel.write(result.stdout);
    if (result.stderr.length > 0) channel.stderr.write(result.stderr);
  }
  finish(channel, result.code);
}

/** A pty's output processing (ONLCR): every newline leaves the terminal as CR LF. */
function toTerminal(output: Buffer): Buffer {
  return Buffer.from(output.toString('utf8').replace(/\r?\n/g, '\r\n'));
}

function finish(channel: ServerChannel, code: number): void {
  channel.exit(code);
  channel.end();
}

async function runShell(channel: ServerChannel, context: CommandContext, terminal: boolean): Promise<void> {
  const hostname = await readGuestHostname(context.rootDir);
  const newline = terminal ? '\r\n' : '\n';
  const forTerminal = (b: Buffer) => (terminal ? toTerminal(b) : b);
  const prompt = () => {
    if (terminal)
      channel.write(
        `${context.user.name}@${hostname}:${context.cwd === context.user.home ? '~' : context.cwd}${context.user.uid === 0 ? '#' : '$'} `,
      );
  };
  let lastCode = 0;
  let done = false;
  let queue = Promise.resolve();

  const end = (code: number) => {
    if (done) return;
    done = true;
    finish(channel, code);
  };
  const submit = (line: string) => {
    queue = queue.then(async () => {
      if (done) return;
      const result = await runCommandLine(line, context, lastCode).catch(() => ({
        code: 1,
        stdout: Buffer.alloc(0),
        stderr: Buffer.alloc(0),
        exited: false,
      }));
      lastCode = result.code;
      if (result.stdout.length > 0) channel.write(forTerminal(result.stdout));
      if (result.stderr.length > 0) (terminal ? channel : channel.stderr).write(forTerminal(result.stderr));
      if (result.exited) {
        if (terminal) channel.write(`logout${newline}`);
        return end(lastCode);
      }
      prompt();
    });
  };

  channel.write(
    `Linux ${hostname} (keyfleet simulated instance): echo, cat, id, hostname, uname, sshd -t, systemctl reload ssh, exit${newline}`,
  );
  prompt();

  let pending = '';
  channel.on('data', (chunk: Buffer) => {
    for (const c of chunk.toString('utf8')) {
      if (!terminal) {
        if (c === '\n') {
          submit(pending);
          pending = '';
        } else pending += c;
        continue;
      }
      // A terminal in raw mode: echo, edit and split lines here, as the kernel's tty would.
      if (c === '\r' || c === '\n') {
        channel.write('\r\n');
        submit(pending);
        pending = '';
      } else if (c === '\x7f' || c === '\b') {
        if (pending.length > 0) {
          pending = pending.slice(0, -1);
          channel.write('\b \b');
        }
      } else if (c === '\x03') {
        pending = '';
        channel.write('^C\r\n');
        prompt();
      } else if (c === '\x04') {
        if (pending === '') submit('exit');
      } else if (c >= ' ') {
        pending += c;
        channel.write(c);
      }
    }
  });
  channel.on('end', () => {
    if (pending !== '') submit(pending);
    pending = '';
    queue = queue.then(() => end(lastCode));
  });
}
