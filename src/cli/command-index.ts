/**
 * Every top-level command, in help order, with what `keyfleet --help` shows of it and how to load the rest. Only
 * the command a run dispatches to is loaded (main.ts fills it in just before dispatch), so `--help` and a client
 * call do not pay for the other commands' modules or their libraries, and never for the server: scripts call the
 * CLI thousands of times.
 */
import type { Command } from 'commander';
import type { Ctx } from './with-client.js';

/** Adds a top-level command's options, subcommands and action to the command `main.ts` created for it. */
export type FillCommand = (cmd: Command, ctx: Ctx) => void;

export interface TopCommand {
  name: string;
  alias?: string;
  /** Arguments in commander's syntax, e.g. `[instanceIds...]`. */
  args?: string;
  description: string;
  /** Whether the command itself has options once loaded: top-level help shows `[options]` for it, as commander does. */
  hasOptions?: boolean;
  load: () => Promise<FillCommand>;
}

const bindDescription = (action: 'bind' | 'unbind') =>
  `${action} a key pair ${action === 'bind' ? 'to' : 'from'} instances (ids as arguments, or --from-file with one id per line)`;

export const TOP_COMMANDS: readonly TopCommand[] = [
  {
    name: 'serve',
    description: 'start keyfleet (API, simulated fleet, console) with its embedded defaults',
    load: async () => (await import('./serve-through-tsx.js')).fillServeCommand,
  },
  {
    name: 'backup',
    args: '<file>',
    hasOptions: true,
    description: 'back up the embedded store while keyfleet serves (run where the data directory is)',
    load: async () => (await import('./commands/backup.js')).fillBackupCommand,
  },
  {
    name: 'restore',
    args: '<file>',
    hasOptions: true,
    description: 'restore a backup into an empty data directory',
    load: async () => (await import('./commands/backup.js')).fillRestoreCommand,
  },
  {
    name: 'key-pairs',
    alias: 'kp',
    description: 'SSH key pairs',
    load: async () => (await import('./commands/key-pairs.js')).fillKeyPairCommands,
  },
  {
    name: 'instances',
    alias: 'i',
    description: 'instances',
    load: async () => (await import('./commands/instances.js')).fillInstanceCommands,
  },
  {
    name: 'images',
    description: 'images to run instances from, and whether their instances can take a key pair',
    load: async () => (await import('./commands/catalog.js')).fillImageCommands,
  },
  {
    name: 'instance-types',
    description: 'instance types, and whether their instances can take a key pair',
    load: async () => (await import('./commands/catalog.js')).fillInstanceTypeCommands,
  },
  {
    name: 'bind',
    args: '[instanceIds...]',
    hasOptions: true,
    description: bindDescription('bind'),
    load: async () => (await import('./commands/bind.js')).fillBindCommand,
  },
  {
    name: 'unbind',
    args: '[instanceIds...]',
    hasOptions: true,
    description: bindDescription('unbind'),
    load: async () => (await import('./commands/bind.js')).fillBindCommand,
  },
  {
    name: 'extend',
    args: '<instanceId>',
    hasOptions: true,
    description: "set a new expiry for an instance's binding (--expires-in 8h or --expires-at <time>)",
    load: async () => (await import('./commands/bind.js')).fillExtendCommand,
  },
  { name: 'tasks', description: 'tasks', load: async () => (await import('./commands/tasks.js')).fillTaskCommands },
  {
    name: 'hosts',
    description: 'existing hosts registered as instances',
    load: async () => (await import('./commands/hosts.js')).fillHostCommands,
  },
  {
    name: 'drift',
    description: 'registered hosts whose keys or sshd drop-in differ from what keyfleet bound',
    load: async () => (await import('./commands/drift.js')).fillDriftCommands,
  },
  {
    name: 'revoke',
    description: 'revoke a key everywhere: plan, apply, and the report that proves it',
    load: async () => (await import('./commands/revoke.js')).fillRevokeCommands,
  },
  {
    name: 'users',
    description: 'users of your account (administrators)',
    load: async () => (await import('./commands/identity.js')).fillUserCommands,
  },
  {
    name: 'access-keys',
    description: "access keys (your own, or any user's as an administrator)",
    load: async () => (await import('./commands/identity.js')).fillAccessKeyCommands,
  },
  {
    name: 'policies',
    description: 'RAM-style policies',
    load: async () => (await import('./commands/identity.js')).fillPolicyCommands,
  },
  {
    name: 'accounts',
    description: 'tenants (system administrator)',
    load: async () => (await import('./commands/identity.js')).fillAccountCommands,
  },
  {
    name: 'audit',
    hasOptions: true,
    description: 'who did what, when, through which face, and the result (newest first)',
    load: async () => (await import('./commands/identity.js')).fillAuditCommand,
  },
  {
    name: 'groups',
    description: "user groups: members get the group's policies (administrators)",
    load: async () => (await import('./commands/groups.js')).fillGroupCommands,
  },
  {
    name: 'rotations',
    description: 'rotate key pair A to B on every instance bound to it, in waves (canary first)',
    load: async () => (await import('./commands/rotations.js')).fillRotationCommands,
  },
  {
    name: 'webhooks',
    description: 'webhook endpoints: signed events about tasks, proofs and drift (administrators)',
    load: async () => (await import('./commands/webhooks.js')).fillWebhookCommands,
  },
];
