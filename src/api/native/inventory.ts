/**
 * Inventories of hosts to register (ADR 9): Ansible-style INI or CSV `name,address,port,user`. A pure module with
 * no imports, so that both clients of the native API parse the same way with the same code: the CLI
 * (`keyfleet hosts import`) and the web console (Instances → Import inventory), each allowed exactly this file by
 * dependency-cruiser.
 */

export interface InventoryHost {
  name: string;
  address: string;
  port: number;
  user: string;
}

export type InventoryFormat = 'csv' | 'ini';

/**
 * Parses an inventory. CSV: `name,address,port,user` per line (a header line naming those columns is skipped).
 * INI (Ansible): `name ansible_host=A ansible_port=P ansible_user=U` per line; `[group]` headers are ignored and
 * `[group:vars]`/`[group:children]` sections skipped; address defaults to the name, port to 22, user to root.
 */
export function parseInventory(text: string, format: InventoryFormat): InventoryHost[] {
  const hosts: InventoryHost[] = [];
  let skipSection = false;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const where = `line ${index + 1}`;
    if (format === 'csv') {
      const cols = line.split(',').map((c) => c.trim());
      if (index === 0 && cols[0]?.toLowerCase() === 'name') return;
      const [name, address, port, user] = cols;
      if (!name || !address) throw new Error(`${where}: expected name,address,port,user`);
      hosts.push({ name, address, port: portOf(port, where), user: user || 'root' });
      return;
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
    hosts.push({ name: name!, address: vars.get('ansible_host') ?? name!, port: portOf(vars.get('ansible_port'), where), user: vars.get('ansible_user') ?? 'root' });
  });
  return hosts;
}

function portOf(value: string | undefined, where: string): number {
  if (value === undefined || value === '') return 22;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${where}: '${value}' is not a valid port`);
  return port;
}
