/**
 * One SSH session channel on a simulated instance after login: `exec` runs the command vocabulary once, `shell`
 * runs it line by line (with a minimal line discipline when the client asked for a terminal, so an interactive
 * `ssh host` behaves; `cd` and `>` act within the session), and the `sftp` subsystem serves files. A `command="…"` option on the key that logged in
 * replaces whatever the client asked for, as sshd's forced commands do; `no-pty` or `restrict` refuse a terminal.
 * With a terminal there is one output stream and the tty turns each newline into CR LF, as a pty does.
 *
 * Output is sent as commands make it, each piece after the channel took the last (channel-output.ts), and a shell
 * stops reading its input while lines wait or its output is not taken: a client that sends without reading holds
 * a bounded amount of this process's memory, as sshd's buffers bound what a real shell's pipe holds.
 */
import type { ServerChannel, Session } from 'ssh2';
import type { DiskQuota } from './disk-quota.js';
import { readGuestHostname } from './guest-file-limits.js';
import { channelOutput, MAX_SHELL_LINE, MAX_WAITING_LINES, whenFlushed } from './channel-output.js';
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
  const context: CommandContext = {
    rootDir: login.rootDir,
    user: login.user,
    cwd: login.user.home,
    quota: login.quota,
  };

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
  const output = channelOutput(channel, terminal, context.rootDir);
  const result = await runCommandLine(command, context, output).catch(async () => {
    await output.err(Buffer.from('sh: 1: internal error\n'));
    return { code: 1 };
  });
  finish(channel, result.code);
}

function finish(channel: ServerChannel, code: number): void {
  channel.exit(code);
  channel.end();
}

async function runShell(channel: ServerChannel, context: CommandContext, terminal: boolean): Promise<void> {
  const hostname = await readGuestHostname(context.rootDir);
  const newline = terminal ? '\r\n' : '\n';
  const output = channelOutput(channel, terminal, context.rootDir);
  const prompt = () => {
    if (terminal)
      channel.write(
        `${context.user.name}@${hostname}:${context.cwd === context.user.home ? '~' : context.cwd}${context.user.uid === 0 ? '#' : '$'} `,
      );
  };
  let lastCode = 0;
  let done = false;
  let waiting = 0;
  let queue = Promise.resolve();

  const end = (code: number) => {
    if (done) return;
    done = true;
    finish(channel, code);
  };
  /** Reads again once no line waits and what was written has left (paused by the data handler below). */
  const resumeWhenIdle = () => {
    if (done || waiting > 0 || !channel.isPaused()) return;
    void whenFlushed(channel).then(() => {
      if (!done && waiting === 0) channel.resume();
    });
  };
  /** Queues a line, or (refused) the message and status sh would give for it. */
  const submit = (line: string, refused?: string) => {
    waiting++;
    queue = queue.then(async () => {
      try {
        if (done) return;
        const result = refused
          ? await output.err(Buffer.from(refused)).then(() => ({ code: 2, exited: false }))
          : await runCommandLine(line, context, output, lastCode).catch(() => ({ code: 1, exited: false }));
        lastCode = result.code;
        if (result.exited) {
          if (terminal) channel.write(`logout${newline}`);
          return end(lastCode);
        }
        prompt();
      } finally {
        waiting--;
        resumeWhenIdle();
      }
    });
  };

  channel.write(
    `Linux ${hostname} (keyfleet simulated instance): echo, cat, id, hostname, uname, sshd -t, systemctl reload ssh, exit${newline}`,
  );
  prompt();

  let pending = '';
  let overlong = false;
  const addChar = (c: string) => {
    // sh reads a line of any length; here one is at most MAX_SHELL_LINE characters, the rest is refused whole.
    if (pending.length < MAX_SHELL_LINE) pending += c;
    else overlong = true;
  };
  const endLine = () => {
    if (overlong)
      submit('', `sh: 1: a line longer than ${MAX_SHELL_LINE} characters is refused by the simulated instance\n`);
    else submit(pending);
    pending = '';
    overlong = false;
  };
  channel.on('data', (chunk: Buffer) => {
    for (const c of chunk.toString('utf8')) {
      if (!terminal) {
        if (c === '\n') endLine();
        else addChar(c);
        continue;
      }
      // A terminal in raw mode: echo, edit and split lines here, as the kernel's tty would.
      if (c === '\r' || c === '\n') {
        channel.write('\r\n');
        endLine();
      } else if (c === '\x7f' || c === '\b') {
        if (pending.length > 0) {
          pending = pending.slice(0, -1);
          channel.write('\b \b');
        }
      } else if (c === '\x03') {
        pending = '';
        overlong = false;
        channel.write('^C\r\n');
        prompt();
      } else if (c === '\x04') {
        if (pending === '') submit('exit');
      } else if (c >= ' ') {
        addChar(c);
        if (!overlong) channel.write(c);
      }
    }
    // Backpressure: lines waiting or output not taken stop the reading (ssh2 then stops opening the window).
    if (waiting >= MAX_WAITING_LINES || channel.writableLength > 0) {
      channel.pause();
      resumeWhenIdle();
    }
  });
  channel.on('end', () => {
    if (pending !== '' || overlong) endLine();
    queue = queue.then(() => end(lastCode));
  });
}
