import {
  createConnection,
  createServer,
  type Server,
  type Socket,
} from 'node:net';
import type { AddressInfo } from 'node:net';

/** One client connection through the proxy and its connection to the target. */
export interface ProxiedConnection {
  readonly id: number;
  readonly client: Socket;
  readonly upstream: Socket;
  /** True once the connection was cut, black-holed or ended. */
  readonly dead: boolean;
}

/**
 * Decides, for each chunk the target sends, whether the proxy cuts the
 * connection instead of forwarding it. The chunk is raw TCP data: server
 * frames are not masked, so a small text frame shows its JSON in it.
 */
export type CutRule = (chunk: Buffer, connection: ProxiedConnection) => boolean;

interface Link extends ProxiedConnection {
  dead: boolean;
  blackholed: boolean;
  delayMs: number;
}

/**
 * A TCP proxy on 127.0.0.1 for fault tests. It forwards bytes both ways.
 * It can cut connections so that both sides get the socket's end, delay
 * data, drop all traffic without closing (a half-open connection), refuse
 * new connections, and cut when the target sends a chunk a rule matches.
 */
export class TcpProxy {
  private readonly links = new Set<Link>();
  private readonly cutRules = new Set<CutRule>();
  private nextId = 1;
  private accepting = true;
  private delayMs = 0;
  /** Connections accepted since the start, refused ones included. */
  accepted = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly targetPort: number,
  ) {}

  /** Starts a proxy to `127.0.0.1:targetPort` on an ephemeral port. */
  static async start(targetPort: number): Promise<TcpProxy> {
    const server = createServer();
    await new Promise<void>((resolve) =>
      server.listen(0, '127.0.0.1', resolve),
    );
    const { port } = server.address() as AddressInfo;
    const proxy = new TcpProxy(server, port, targetPort);
    server.on('connection', (client) => proxy.accept(client));
    return proxy;
  }

  /** WebSocket URL through the proxy. */
  wsUrl(path = '/ws'): string {
    return `ws://127.0.0.1:${this.port}${path}`;
  }

  /** Connections still forwarding data. */
  get live(): ProxiedConnection[] {
    return [...this.links].filter((link) => !link.dead);
  }

  /** While false, new connections are closed as soon as they arrive. */
  setAccepting(accepting: boolean): void {
    this.accepting = accepting;
  }

  /** Delay added to every chunk of new and existing connections, in ms. */
  setDelay(delayMs: number): void {
    this.delayMs = delayMs;
    for (const link of this.links) {
      link.delayMs = delayMs;
    }
  }

  /** Cuts one connection: both sockets are destroyed, so both peers see it end. */
  cut(connection: ProxiedConnection): void {
    const link = connection as Link;
    link.dead = true;
    link.client.destroy();
    link.upstream.destroy();
  }

  cutAll(): void {
    for (const link of this.live) {
      this.cut(link);
    }
  }

  /**
   * Drops every byte of the live connections from now on, in both
   * directions, without FIN or RST, so each peer gets a silent connection.
   * New connections are not affected.
   */
  blackholeAll(): void {
    for (const link of this.live) {
      (link as Link).blackholed = true;
      (link as Link).dead = true;
    }
  }

  /** Adds a rule that cuts a connection on a chunk from the target; returns its removal. */
  cutWhen(rule: CutRule): () => void {
    this.cutRules.add(rule);
    return () => this.cutRules.delete(rule);
  }

  async close(): Promise<void> {
    for (const link of this.links) {
      link.client.destroy();
      link.upstream.destroy();
    }
    this.links.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.accepted += 1;
    if (!this.accepting) {
      client.destroy();
      return;
    }

    const upstream = createConnection({
      host: '127.0.0.1',
      port: this.targetPort,
    });
    const link: Link = {
      id: this.nextId++,
      client,
      upstream,
      dead: false,
      blackholed: false,
      delayMs: this.delayMs,
    };
    this.links.add(link);
    client.setNoDelay(true);
    upstream.setNoDelay(true);

    client.on('data', (chunk: Buffer) => this.forward(link, chunk, upstream));
    upstream.on('data', (chunk: Buffer) => {
      for (const rule of this.cutRules) {
        if (!link.dead && rule(chunk, link)) {
          this.cut(link);
          return;
        }
      }
      this.forward(link, chunk, client);
    });

    // A black-holed connection must not pass the end of one side to the
    // other: each peer has to find out on its own, by its heartbeat.
    const end = () => {
      if (link.blackholed) {
        return;
      }
      link.dead = true;
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
    const forget = () => {
      if (client.destroyed && upstream.destroyed) {
        this.links.delete(link);
      }
    };
    client.on('close', forget);
    upstream.on('close', forget);
  }

  private forward(link: Link, chunk: Buffer, to: Socket): void {
    if (link.blackholed || link.dead) {
      return;
    }
    if (link.delayMs <= 0) {
      to.write(chunk);
      return;
    }
    setTimeout(() => {
      if (!link.blackholed && !to.destroyed) {
        to.write(chunk);
      }
    }, link.delayMs);
  }
}
