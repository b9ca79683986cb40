/**
 * A TCP proxy for fault tests: keyfleet is given the proxy's address as a host's, and the proxy forwards to the real
 * sshd, counting every byte, until an armed fault fires at an exact byte offset:
 *
 * - freeze: the connection stops forwarding in both directions and both sockets stay open (a link that went dead
 *   without a FIN or RST: only a timeout can end it on either side);
 * - close: both sides are destroyed (the bytes before the offset are delivered first);
 * - corrupt: the byte at the offset is flipped (every bit), everything else is forwarded as it came.
 *
 * The offset counts the bytes forwarded since the fault was armed, over every connection in the order they flowed
 * (so one sweep covers a whole live change: its session, then the fresh connections of its proof), in one
 * direction (client to server, server to client) or both together. Scope 'first': only the connection on which the
 * offset is reached gets the fault, every other and later one is clean (a fault that a retry gets past). Scope 'all':
 * from then on the network stays broken: every open connection gets the fault at once, and every later connection
 * from its first byte (freeze: accepted and never answered; close: closed on accept; corrupt: its first byte in
 * the fault's direction flipped).
 *
 * Disarmed (arm(null)) it only counts, which is how a clean run's size is measured to sweep the offset over it.
 * Sockets are destroyed on close(), and a frozen connection's when the next fault is armed (sshd would otherwise
 * keep an unanswered login until LoginGraceTime, and MaxStartups refuses new ones beyond 10).
 */
import net from 'node:net';

export type FaultKind = 'freeze' | 'close' | 'corrupt';
/** c2s: what the client (keyfleet) sends; s2c: what the server (sshd) sends; total: both. */
export type FaultDirection = 'c2s' | 's2c' | 'total';
export type Way = 'c2s' | 's2c';

export interface Fault {
  kind: FaultKind;
  /** The fault hits the byte at this offset (0-based) of the counted stream: this many bytes pass untouched. */
  afterBytes: number;
  direction: FaultDirection;
  scope: 'first' | 'all';
}

export interface ProxyCounts {
  c2s: number;
  s2c: number;
  total: number;
  /** Connections accepted since the proxy was armed (or reset). */
  connections: number;
}

export interface FaultFired {
  /** 1-based, in the order connections were accepted since arming. */
  connection: number;
  direction: 'c2s' | 's2c';
  /** The connection's own byte offset (in that direction) where the fault hit. */
  offsetInConnection: number;
}

interface Link {
  id: number;
  client: net.Socket;
  server: net.Socket | null;
  bytes: Record<Way, number>;
  frozen: boolean;
  closed: boolean;
  /** Flip the first byte forwarded next in this direction (scope 'all', corrupt). */
  flipNext: Record<Way, boolean>;
  /** The count of all bytes since arming (both ways) when this connection was accepted. */
  startedAt: number;
  /** The first RECORDED_BYTES forwarded each way, as they left the proxy. */
  head: Record<Way, Buffer[]>;
}

/** How much of each connection's traffic is kept, to find where a given structure travels (streamOf). */
const RECORDED_BYTES = 64 * 1024;

export class FaultProxy {
  private readonly links = new Set<Link>();
  /** Every connection since arming, by id (1-based), for streamOf. */
  private history: Link[] = [];
  private fault: Fault | null = null;
  private firedAt: FaultFired | null = null;
  private counted: ProxyCounts = { c2s: 0, s2c: 0, total: 0, connections: 0 };

  private constructor(
    private readonly server: net.Server,
    private readonly target: { host: string; port: number },
  ) {
    server.on('connection', (client) => this.accept(client));
  }

  /** Listens on `listenHost` (a 127.x.y.z address), on a free port, forwarding to `target`. */
  static async start(listenHost: string, target: { host: string; port: number }): Promise<FaultProxy> {
    const server = net.createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, listenHost, () => resolve());
    });
    return new FaultProxy(server, target);
  }

  get host(): string {
    return (this.server.address() as net.AddressInfo).address;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Arms `fault` (null: none, count only) and starts counting from zero; frozen connections left are dropped. */
  arm(fault: Fault | null): void {
    for (const link of this.links) if (link.frozen) this.destroy(link);
    this.fault = fault;
    this.firedAt = null;
    this.counted = { c2s: 0, s2c: 0, total: 0, connections: 0 };
    this.history = [];
  }

  /** Bytes and connections since the proxy was last armed. */
  counts(): ProxyCounts {
    return { ...this.counted };
  }

  /** Where the armed fault hit, or null if the traffic never reached its offset. */
  fired(): FaultFired | null {
    return this.firedAt && { ...this.firedAt };
  }

  /**
   * The first 64 KiB a connection since arming carried one way (1-based, in order of acceptance): with the
   * counts, where in the stream a given structure (a host key blob, a file's content) travels.
   */
  streamOf(connection: number, way: Way): Buffer {
    const link = this.history[connection - 1];
    return link ? Buffer.concat(link.head[way]) : Buffer.alloc(0);
  }

  /**
   * For each connection since arming, in order of acceptance: how many bytes (both ways, all connections) had
   * been forwarded when it was accepted. With 'total' offsets, where each connection's traffic begins.
   */
  connectionStarts(): number[] {
    return this.history.map((l) => l.startedAt);
  }

  /** Connections currently open through the proxy (frozen ones included). */
  openConnections(): number {
    return this.links.size;
  }

  async close(): Promise<void> {
    this.fault = null;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const link of this.links) this.destroy(link);
    await closed;
  }

  private accept(client: net.Socket): void {
    client.setNoDelay(true);
    this.counted.connections++;
    const link: Link = {
      id: this.counted.connections,
      client,
      server: null,
      bytes: { c2s: 0, s2c: 0 },
      frozen: false,
      closed: false,
      flipNext: { c2s: false, s2c: false },
      head: { c2s: [], s2c: [] },
      startedAt: this.counted.total,
    };
    this.links.add(link);
    this.history.push(link);
    client.on('error', () => undefined);
    // A frozen link tells neither side anything: each must give up on its own.
    client.on('close', () => link.frozen || this.destroy(link));
    const broken = this.firedAt && this.fault?.scope === 'all' ? this.fault : null;
    if (broken?.kind === 'close') {
      this.destroy(link);
      return;
    }
    if (broken?.kind === 'freeze') {
      link.frozen = true;
      client.pause();
      return;
    }
    if (broken?.kind === 'corrupt') link.flipNext[broken.direction === 's2c' ? 's2c' : 'c2s'] = true;

    const server = net.connect({ host: this.target.host, port: this.target.port, noDelay: true });
    link.server = server;
    server.on('error', () => undefined);
    server.on('close', () => link.frozen || this.destroy(link));
    client.on('data', (chunk: Buffer) => this.forward(link, 'c2s', chunk));
    server.on('data', (chunk: Buffer) => this.forward(link, 's2c', chunk));
    // A half-close is passed on (sshd and ssh2 both end with FIN after DISCONNECT).
    client.on('end', () => link.frozen || server.end());
    server.on('end', () => link.frozen || client.end());
  }

  private forward(link: Link, way: Way, chunk: Buffer): void {
    if (link.frozen || link.closed) return;
    const to = way === 'c2s' ? link.server! : link.client;
    const from = way === 'c2s' ? link.client : link.server!;
    const data = link.flipNext[way] ? flipped(chunk, 0) : chunk;
    link.flipNext[way] = false;
    if (link.bytes[way] < RECORDED_BYTES)
      link.head[way].push(Buffer.from(data.subarray(0, RECORDED_BYTES - link.bytes[way])));
    const hit = this.hitWithin(way, data.length);
    this.count(link, way, hit ?? data.length);
    if (hit === null) {
      send(from, to, data);
      return;
    }

    const fault = this.fault!;
    this.firedAt = { connection: link.id, direction: way, offsetInConnection: link.bytes[way] };
    if (fault.kind === 'corrupt') {
      this.count(link, way, data.length - hit);
      send(from, to, flipped(data, hit));
      if (fault.scope === 'all') for (const other of this.links) if (other !== link) other.flipNext[way] = true;
      return;
    }
    const before = data.subarray(0, hit);
    const victims = fault.scope === 'all' ? [...this.links] : [link];
    if (fault.kind === 'freeze') {
      if (before.length > 0) to.write(before);
      for (const v of victims) this.freeze(v);
      return;
    }
    link.closed = true; // nothing more is forwarded while the bytes before the offset are delivered
    const closeAll = () => {
      for (const v of victims) this.destroy(v);
    };
    if (before.length > 0) to.write(before, closeAll);
    else closeAll();
  }

  /** The offset within a chunk of `length` bytes going `way` where the armed fault hits, or null. */
  private hitWithin(way: Way, length: number): number | null {
    const fault = this.fault;
    if (!fault || this.firedAt || (fault.direction !== 'total' && fault.direction !== way)) return null;
    const counted = fault.direction === 'total' ? this.counted.total : this.counted[way];
    const offset = fault.afterBytes - counted;
    return offset >= 0 && offset < length ? offset : null;
  }

  private count(link: Link, way: Way, n: number): void {
    link.bytes[way] += n;
    this.counted[way] += n;
    this.counted.total += n;
  }

  private freeze(link: Link): void {
    link.frozen = true;
    link.client.pause();
    link.server?.pause();
  }

  private destroy(link: Link): void {
    link.closed = true;
    link.client.destroy();
    link.server?.destroy();
    this.links.delete(link);
  }
}

function send(from: net.Socket, to: net.Socket, data: Buffer): void {
  if (!to.write(data)) {
    from.pause();
    to.once('drain', () => from.resume());
  }
}

function flipped(data: Buffer, at: number): Buffer {
  const copy = Buffer.from(data);
  copy[at] = copy[at]! ^ 0xff;
  return copy;
}
