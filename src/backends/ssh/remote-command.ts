/** A command run on its own exec channel: exit status (128 + n for signal n), stdin delivered, output bounded. */
import { constants as osConstants } from 'node:os';
import type { ClientChannel, Client as Ssh2Client } from 'ssh2';
import type { ExecResult } from './session-types.js';

const MAX_EXEC_OUTPUT_BYTES = 4 * 1024 * 1024;

export function runCommand(client: Ssh2Client, command: string, stdin: string | undefined): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) return reject(err);
      collectOutput(stream).then(resolve, reject);
      stream.end(stdin ?? '');
    });
  });
}

function collectOutput(stream: ClientChannel): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const stdout = boundedSink();
    const stderr = boundedSink();
    let code: number | null = null;
    stream.on('data', stdout.push);
    stream.stderr.on('data', stderr.push);
    stream.on('exit', (exitCode: number | null, signal?: string) => {
      code = exitCode ?? 128 + signalNumber(signal);
    });
    stream.on('error', reject);
    stream.on('close', () => {
      if (code === null) return reject(new Error('the command ended without an exit status'));
      resolve({ code, stdout: stdout.text(), stderr: stderr.text() });
    });
  });
}

/** ssh2 names the signal 'SIGTERM' (the wire says 'TERM'); accept both. */
function signalNumber(signal: string | undefined): number {
  if (!signal) return 0;
  const name = (signal.startsWith('SIG') ? signal : `SIG${signal}`) as keyof typeof osConstants.signals;
  return osConstants.signals[name] ?? 0;
}

/** Collects output up to a cap; decodes once at the end so multi-byte characters are never split. */
function boundedSink(): { push: (chunk: Buffer) => void; text: () => string } {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    push: (chunk) => {
      if (size >= MAX_EXEC_OUTPUT_BYTES) return;
      chunks.push(chunk.subarray(0, MAX_EXEC_OUTPUT_BYTES - size));
      size += chunk.length;
    },
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}
