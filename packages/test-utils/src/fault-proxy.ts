import { connect, createServer, type Server, type Socket } from 'node:net';

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** Where the proxy forwards to, e.g. a redis-server's `{ host: '127.0.0.1', port }`. */
  target: { host: string; port: number };
  /** Port to listen on. @default a free loopback port */
  port?: number;
}

/** What the proxy does to the bytes it carries. */
export type FaultMode = 'normal' | 'paused' | 'black-hole';

/**
 * A TCP proxy on 127.0.0.1 in front of one target, with faults a test switches on and off:
 * a slow network (latency), a stalled path (pause), a path that swallows everything (black hole)
 * and a broken one (cut). The faults act on connections that are already open too, which is
 * what a half-open connection to a hung server looks like to a client.
 */
export interface FaultProxy {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** `redis://127.0.0.1:{port}` */
  readonly url: string;
  /** The current mode. */
  readonly mode: FaultMode;
  /** Client connections open now. */
  readonly connections: number;
  /** Client connections accepted since the start. */
  readonly accepted: number;
  /**
   * Bytes the proxy holds now and has not written on, both directions of every connection: held
   * by a pause, a latency or a slow link. With none of those in force it is 0 (a chunk is written
   * on in the tick it arrives), so a test can see that a pause holds what a client sent, rather
   * than conclude it from silence.
   */
  readonly pending: number;
  /** Bytes a black hole has swallowed since the start (sent to it, or held when it began). */
  readonly dropped: number;
  /**
   * Stops forwarding in both directions; connections stay open and new ones are accepted (and
   * connected to the target), but nothing passes. Bytes are held, in order, until
   * {@link FaultProxy.resume} or {@link FaultProxy.heal}: what a stalled path or a frozen
   * server looks like to the client.
   */
  pause(): void;
  /** Ends a pause: held bytes are delivered (after the latency, if any) and forwarding goes on. */
  resume(): void;
  /** Delays every chunk by `ms` in each direction (so a round trip takes at least 2 × `ms`); 0 for none. */
  setLatency(ms: number): void;
  /**
   * Limits each direction of each connection to `bytesPerSecond` (a slow link: a chunk is
   * delivered once the link could have carried it, after the chunks before it); 0 for no limit.
   */
  setBandwidth(bytesPerSecond: number): void;
  /** Destroys every open connection, both sides (a reset); new connections are accepted as usual. */
  cut(): void;
  /**
   * Accepts connections and never answers: bytes in either direction are dropped, on the open
   * connections and on new ones (which are never connected to the target). A byte stream that
   * lost bytes cannot go on, so {@link FaultProxy.heal} destroys the connections that were open
   * during the black hole, as TCP would once its retransmissions give up.
   */
  blackHole(): void;
  /** Back to normal: no pause, no latency, no bandwidth limit (bytes they held back go at once), no black hole (see {@link FaultProxy.blackHole} for its connections). */
  heal(): void;
  /** Stops listening and destroys every connection. Safe to call twice. */
  close(): Promise<void>;
}

/** The faults in force, shared by every connection. */
interface ProxyState {
  mode: FaultMode;
  /** Delay of each chunk in each direction, in ms. */
  latencyMs: number;
  /** Bytes per second each direction of each connection carries; 0 for no limit. */
  bytesPerSecond: number;
}

/** One direction of one connection: chunks waiting for their time (latency) or for a resume. */
class Lane {
  readonly #queue: { chunk: Buffer; due: number }[] = [];
  #bytes = 0;
  readonly #to: () => Socket | undefined;
  readonly #state: ProxyState;
  #timer: NodeJS.Timeout | undefined;
  #lastDue = 0;

  constructor(to: () => Socket | undefined, state: ProxyState) {
    this.#to = to;
    this.#state = state;
  }

  push(chunk: Buffer): void {
    // Later chunks never overtake earlier ones, even when the latency is lowered in between.
    const { bytesPerSecond } = this.#state;
    const carry = bytesPerSecond > 0 ? (chunk.byteLength * 1000) / bytesPerSecond : 0;
    const due = Math.max(Date.now() + this.#state.latencyMs, this.#lastDue) + carry;
    this.#lastDue = due;
    this.#queue.push({ chunk, due });
    this.#bytes += chunk.byteLength;
    this.flush();
  }

  /** Bytes waiting in this lane. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Writes what is due, and waits for the rest; holds everything while paused. */
  flush(): void {
    if (this.#state.mode !== 'normal') return;
    const target = this.#to();
    if (!target || target.connecting) return; // written once the target is connected
    const now = Date.now();
    while (this.#queue.length > 0 && this.#queue[0]!.due <= now) {
      const { chunk } = this.#queue.shift()!;
      this.#bytes -= chunk.byteLength;
      target.write(chunk);
    }
    if (this.#queue.length > 0 && this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.flush();
      }, this.#queue[0]!.due - now);
    }
  }

  /** Makes everything waiting due now (the faults that delayed it were lifted), and writes it. */
  expedite(): void {
    const now = Date.now();
    for (const item of this.#queue) item.due = Math.min(item.due, now);
    this.#lastDue = Math.min(this.#lastDue, now);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.flush();
  }

  /** Forgets what is waiting; returns how many bytes that was. */
  drop(): number {
    const bytes = this.#bytes;
    this.#queue.length = 0;
    this.#bytes = 0;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return bytes;
  }
}

interface Link {
  client: Socket;
  upstream: Socket | undefined;
  toUpstream: Lane;
  toClient: Lane;
  /** True once it lost bytes to a black hole: heal() ends it. */
  lossy: boolean;
}

/** Starts a {@link FaultProxy} on a free loopback port (or `options.port`) in front of `options.target`. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const state: ProxyState = { mode: 'normal', latencyMs: 0, bytesPerSecond: 0 };
  const links = new Set<Link>();
  let accepted = 0;
  let dropped = 0;
  let closed = false;

  const destroy = (link: Link) => {
    links.delete(link);
    link.toUpstream.drop();
    link.toClient.drop();
    link.client.destroy();
    link.upstream?.destroy();
  };

  const swallow = (link: Link, chunk: Buffer) => {
    link.lossy = true;
    dropped += chunk.byteLength;
  };

  const openUpstream = (link: Link) => {
    const upstream = connect({ host: options.target.host, port: options.target.port });
    link.upstream = upstream;
    upstream.setNoDelay(true);
    upstream.on('connect', () => link.toUpstream.flush());
    upstream.on('data', (chunk: Buffer) => {
      if (state.mode === 'black-hole') swallow(link, chunk);
      else link.toClient.push(chunk);
    });
    // The target went away (or refused): the client sees its connection close, as it would directly.
    upstream.on('error', () => destroy(link));
    upstream.on('close', () => destroy(link));
  };

  const server: Server = createServer((client) => {
    accepted++;
    client.setNoDelay(true);
    const link: Link = {
      client,
      upstream: undefined,
      lossy: false,
      toUpstream: new Lane(() => link.upstream, state),
      toClient: new Lane(() => link.client, state),
    };
    links.add(link);
    client.on('data', (chunk: Buffer) => {
      if (state.mode === 'black-hole') swallow(link, chunk);
      else link.toUpstream.push(chunk);
    });
    client.on('error', () => destroy(link));
    client.on('close', () => destroy(link));
    // In a black hole the connection is accepted and goes nowhere; it stays lossy for heal().
    if (state.mode === 'black-hole') link.lossy = true;
    else openUpstream(link);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('the fault proxy could not read its own port');
  const port = address.port;

  const flushAll = () => {
    for (const link of links) {
      link.toUpstream.flush();
      link.toClient.flush();
    }
  };

  return {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    get mode() {
      return state.mode;
    },
    get connections() {
      return links.size;
    },
    get accepted() {
      return accepted;
    },
    get pending() {
      let bytes = 0;
      for (const link of links) bytes += link.toUpstream.bytes + link.toClient.bytes;
      return bytes;
    },
    get dropped() {
      return dropped;
    },
    pause() {
      if (state.mode === 'normal') state.mode = 'paused';
    },
    resume() {
      if (state.mode !== 'paused') return;
      state.mode = 'normal';
      flushAll();
    },
    setLatency(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new Error(`latency must be a number of ms >= 0, got ${ms}`);
      state.latencyMs = ms;
    },
    setBandwidth(bytesPerSecond) {
      if (!Number.isFinite(bytesPerSecond) || bytesPerSecond < 0) throw new Error(`bandwidth must be a number of bytes per second >= 0, got ${bytesPerSecond}`);
      state.bytesPerSecond = bytesPerSecond;
    },
    cut() {
      for (const link of [...links]) destroy(link);
    },
    blackHole() {
      state.mode = 'black-hole';
      // Whatever was held or on its way is lost too.
      for (const link of links) {
        link.lossy = true;
        dropped += link.toUpstream.drop() + link.toClient.drop();
      }
    },
    heal() {
      state.mode = 'normal';
      state.latencyMs = 0;
      state.bytesPerSecond = 0;
      for (const link of [...links]) {
        if (link.lossy) destroy(link);
      }
      // Bytes held back by latency or a slow link go now: the path is healthy again.
      for (const link of links) {
        link.toUpstream.expedite();
        link.toClient.expedite();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const link of [...links]) destroy(link);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
