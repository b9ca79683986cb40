/**
 * Inventories of hosts to register (ADR 9): Ansible-style INI or CSV `name,address,port,user[,hostKeySha256[,homeDir]]`.
 * A pure module with no imports: the server reads an import's inventory with it (POST
 * /regions/:regionId/host-imports), the core takes its rows as they are, and the web console previews an inventory
 * with the same code before sending it, so the preview shows exactly the rows the server will register.
 */

export interface InventoryHost {
  name: string;
  address: string;
  port: number;
  user: string;
}

export type InventoryFormat = 'csv' | 'ini';

/**
 * One host line as read: the values its line gives (port and user only when it gives them, so the import's
 * defaults apply otherwise), or why the line could not be read. `line` is 1-based.
 */
export type InventoryLine =
  | {
      line: number;
      name: string;
      address: string;
      port?: number;
      user?: string;
      hostKeySha256?: string;
      homeDir?: string;
    }
  | { line: number; problem: string };

/** CSV when the first meaningful line looks like comma-separated values, else INI (a file name's extension wins). */
export function detectInventoryFormat(text: string, fileName?: string | null): InventoryFormat {
  if (fileName) {
    if (/\.csv$/i.test(fileName)) return 'csv';
    if (/\.(ini|cfg|hosts|inventory)$/i.test(fileName)) return 'ini';
  }
  const first = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l && !l.startsWith('#') && !l.startsWith(';'));
  return first && first.includes(',') && !first.includes('=') && !first.startsWith('[') ? 'csv' : 'ini';
}

/**
 * Reads every host line, keeping going past bad ones so that all of them can be listed at once. CSV:
 * `name,address,port,user[,hostKeySha256[,homeDir]]` per line (a header line starting with `name` is skipped). INI
 * (Ansible): `name ansible_host=A ansible_port=P ansible_user=U [keyfleet_host_key=SHA256:…] [keyfleet_home=/path]`
 * per line (the keyfleet_ variables: the host key given up front, the login user's home when it is not the default); `[group]` headers are
 * ignored and `[group:vars]`/`[group:children]` sections skipped; the address defaults to the name.
 */
export function readInventory(text: string, format: InventoryFormat): InventoryLine[] {
  const lines: InventoryLine[] = [];
  let skipSection = false;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const at = index + 1;
    if (format === 'csv') {
      const cols = line.split(',').map((c) => c.trim());
      if (index === 0 && cols[0]?.toLowerCase() === 'name') return;
      const [name, address, port, user, hostKey, home] = cols;
      if (!name || !address) return void lines.push({ line: at, problem: 'expected name,address,port,user' });
      return void lines.push(hostLine(at, name, address, port, user, hostKey, home));
    }
    const section = /^\[([^\]]+)\]$/.exec(line);
    if (section) {
      skipSection = section[1]!.includes(':');
      return;
    }
    if (skipSection) return;
    const [name, ...pairs] = line.split(/\s+/);
    const vars = new Map<string, string>();
    for (const pair of pairs) {
      const eq = pair.indexOf('=');
      if (eq > 0) vars.set(pair.slice(0, eq), pair.slice(eq + 1).replace(/^["']|["']$/g, ''));
    }
    lines.push(
      hostLine(
        at,
        name!,
        vars.get('ansible_host') ?? name!,
        vars.get('ansible_port'),
        vars.get('ansible_user'),
        vars.get('keyfleet_host_key'),
        vars.get('keyfleet_home'),
      ),
    );
  });
  return lines;
}

/**
 * The hosts of an inventory with port 22 and user root where a line gives none, as the console previews them;
 * throws on the first bad line.
 */
export function parseInventory(text: string, format: InventoryFormat): InventoryHost[] {
  return readInventory(text, format).map((l) => {
    if ('problem' in l) throw new Error(`line ${l.line}: ${l.problem}`);
    return { name: l.name, address: l.address, port: l.port ?? 22, user: l.user || 'root' };
  });
}

function hostLine(
  line: number,
  name: string,
  address: string,
  port: string | undefined,
  user: string | undefined,
  hostKey: string | undefined,
  home: string | undefined,
): InventoryLine {
  const n = port === undefined || port === '' ? undefined : Number(port);
  if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > 65535))
    return { line, problem: `'${port!.slice(0, 16)}' is not a valid port` };
  return {
    line,
    name,
    address,
    ...(n !== undefined ? { port: n } : {}),
    ...(user ? { user } : {}),
    ...(hostKey ? { hostKeySha256: hostKey } : {}),
    ...(home ? { homeDir: home } : {}),
  };
}
