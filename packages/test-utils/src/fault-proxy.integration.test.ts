import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFaultProxy, type FaultProxy } from './fault-proxy.ts';
import { startRedisServer, type RedisServer } from './redis-server.ts';

/** A raw RESP connection: what a Redis client sees of the path, with nothing of its own in between. */
interface Raw {
  readonly socket: Socket;
  /** Everything received so far. */
  readonly received: () => string;
  /** True once the socket closed. */
  readonly isClosed: () => boolean;
  /** Writes an inline command. */
  send(command: string): void;
  /** Resolves when the received text contains `text` (rejects after `ms`). */
  waitFor(text: string, ms?: number): Promise<void>;
  /** Resolves when the socket closes (rejects after `ms`). */
  waitClosed(ms?: number): Promise<void>;
}

async function rawConnect(port: number): Promise<Raw> {
  const socket = connect({ host: '127.0.0.1', port });
  let received = '';
  let closed = false;
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
  socket.on('error', () => undefined);
  socket.on('close', () => (closed = true));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const until = (done: () => boolean, ms: number, what: string) =>
    vi.waitFor(
      () => {
        if (!done()) throw new Error(`${what} within ${ms} ms (received ${JSON.stringify(received)})`);
      },
      { timeout: ms, interval: 10 },
    );
  return {
    socket,
    received: () => received,
    isClosed: () => closed,
    send: (command) => void socket.write(`${command}\r\n`),
    waitFor: (text, ms = 10_000) => until(() => received.includes(text), ms, `no ${JSON.stringify(text)}`),
    waitClosed: (ms = 10_000) => until(() => closed, ms, 'the connection did not close'),
  };
}

/** connected_clients of the server, as it counts them itself (redis-cli's own connection included). */
const connectedClients = (server: RedisServer) => Number(/connected_clients:(\d+)/.exec(server.cli('INFO', 'clients'))?.[1]);
/** How many ECHO commands the server has run, as it counts them itself. */
const echoes = (server: RedisServer) => Number(/^cmdstat_echo:calls=(\d+)/m.exec(server.cli('INFO', 'commandstats'))?.[1] ?? 0);
/** Waits until the proxy reports `what` at `bytes`: the bytes reached the proxy, whatever it then does with them. */
const untilBytes = (what: () => number, bytes: number) => vi.waitFor(() => expect(what()).toBe(bytes), { timeout: 10_000, interval: 10 });

describe('startFaultProxy, in front of a real redis-server', () => {
  let server: RedisServer;
  let proxy: FaultProxy;
  const raws: Raw[] = [];
  const raw = async () => {
    const r = await rawConnect(proxy.port);
    raws.push(r);
    return r;
  };

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });
  afterEach(async () => {
    for (const r of raws.splice(0)) r.socket.destroy();
    await proxy?.close();
  });

  it('listens on a loopback port of its own and carries commands both ways', async () => {
    proxy = await startFaultProxy({ target: { host: server.host, port: server.port } });
    expect(proxy.port).not.toBe(server.port);
    expect(proxy.url).toBe(`redis://127.0.0.1:${proxy.port}`);
    const a = await raw();
    a.send('SET fault-proxy:k hello');
    await a.waitFor('+OK\r\n');
    a.send('GET fault-proxy:k');
    await a.waitFor('$5\r\nhello\r\n');
    expect(server.cli('GET', 'fault-proxy:k')).toBe('hello');
    expect(proxy.connections).toBe(1);
    expect(proxy.mode).toBe('normal');
  });

  it('pause holds every byte on open and new connections, and resume delivers them in order', async () => {
    proxy = await startFaultProxy({ target: { host: server.host, port: server.port } });
    const before = await raw();
    before.send('PING');
    await before.waitFor('+PONG');
    const echoesBefore = echoes(server);
    proxy.pause();
    before.send('ECHO first');
    before.send('ECHO second');
    const during = await raw(); // accepted while paused, like a frozen server's listen backlog
    during.send('PING');
    // Every byte sent is in the proxy's hands (a proxy that forwarded them, however slowly, would
    // not hold them all), and the server has run none of them: not silence after a sleep, which a
    // broken proxy on a slow machine passes too.
    await untilBytes(() => proxy.pending, 'ECHO first\r\nECHO second\r\nPING\r\n'.length);
    expect(echoes(server)).toBe(echoesBefore);
    expect(before.received()).toBe('+PONG\r\n');
    expect(during.received()).toBe('');
    expect(before.isClosed() || during.isClosed()).toBe(false);
    expect(proxy.mode).toBe('paused');

    proxy.resume();
    await before.waitFor('$6\r\nsecond\r\n');
    expect(before.received()).toBe('+PONG\r\n$5\r\nfirst\r\n$6\r\nsecond\r\n');
    await during.waitFor('+PONG\r\n');
  });

  it('latency delays each direction by the given time, and 0 turns it off', async () => {
    proxy = await startFaultProxy({ target: { host: server.host, port: server.port } });
    const a = await raw();
    a.send('PING');
    await a.waitFor('+PONG');
    proxy.setLatency(200);
    const start = performance.now();
    a.send('ECHO slow');
    await a.waitFor('slow');
    // A lower bound is the property here, and a slow machine only makes it larger
    // (5 ms of slack for Date.now's whole milliseconds).
    expect(performance.now() - start).toBeGreaterThanOrEqual(2 * 200 - 5);
    proxy.setLatency(0);
    a.send('ECHO fast');
    await a.waitFor('fast');
    expect(() => proxy.setLatency(-1)).toThrow(/latency/);
  });

  it('bandwidth makes a large reply take as long as the link needs to carry it, and heal lifts it', async () => {
    proxy = await startFaultProxy({ target: { host: server.host, port: server.port } });
    const a = await raw();
    const value = 'x'.repeat(50_000); // an inline command carries at most 64 KiB
    a.send(`SET big ${value}`);
    await a.waitFor('+OK', 5000);
    proxy.setBandwidth(200_000); // 200 KB/s: the 50 KB reply takes at least 250 ms
    const start = performance.now();
    a.send('GET big');
    await a.waitFor(`${value}\r\n`, 10_000);
    // A lower bound again: the link cannot have carried both directions' bytes any sooner.
    expect(performance.now() - start).toBeGreaterThanOrEqual(245);
    proxy.heal();
    a.send('ECHO after');
    await a.waitFor('after');
    expect(() => proxy.setBandwidth(-1)).toThrow(/bandwidth/);
  });

  it('cut destroys every open connection, and new ones work', async () => {
    proxy = await startFaultProxy({ target: { host: server.host, port: server.port } });
    const a = await raw();
    const b = await raw();
    a.send('PING');
    b.send('PING');
    await a.waitFor('+PONG');
    await b.waitFor('+PONG');
    proxy.cut();
    await a.waitClosed();
    await b.waitClosed();
    expect(proxy.connections).toBe(0);
    const c = await raw();
    c.send('PING');
    await c.waitFor('+PONG');
  });

  it('a black hole accepts and never answers, on open and new connections; heal ends the lossy ones', async () => {
    proxy = await startFaultProxy({ target: { host: server.host, port: server.port } });
    const before = await raw();
    before.send('PING');
    await before.waitFor('+PONG');
    const serverSideBefore = connectedClients(server);
    const echoesBefore = echoes(server);
    proxy.blackHole();
    before.send('ECHO lost');
    const during = await raw(); // the connection is accepted...
    during.send('PING');
    // Both commands reached the proxy and were swallowed: nothing can come of them any more, so
    // the silence below is a fact and not a guess at how long an answer would take.
    await untilBytes(() => proxy.dropped, 'ECHO lost\r\nPING\r\n'.length);
    expect(echoes(server)).toBe(echoesBefore);
    expect(before.received()).toBe('+PONG\r\n');
    expect(during.received()).toBe('');
    expect(before.isClosed() || during.isClosed()).toBe(false);
    // ...and never reaches the server.
    expect(connectedClients(server)).toBe(serverSideBefore);
    expect(proxy.accepted).toBe(2);

    proxy.heal();
    await before.waitClosed();
    await during.waitClosed();
    expect(before.received()).toBe('+PONG\r\n');
    const after = await raw();
    after.send('PING');
    await after.waitFor('+PONG');
    expect(proxy.mode).toBe('normal');
  });

  it('heal after a pause delivers what was held and clears the latency', async () => {
    proxy = await startFaultProxy({ target: { host: server.host, port: server.port } });
    const a = await raw();
    // A second proxy with the same latency and no pause shows the path is live: once its round
    // trip is done, the 100 ms timers of this process have fired, and a proxy whose pause did not
    // hold would have passed the bytes on.
    const control = await startFaultProxy({ target: { host: server.host, port: server.port } });
    try {
      const c = await rawConnect(control.port);
      raws.push(c);
      const echoesBefore = echoes(server);
      proxy.setLatency(100);
      control.setLatency(100);
      proxy.pause();
      a.send('ECHO held');
      await untilBytes(() => proxy.pending, 'ECHO held\r\n'.length);
      c.send('ECHO control');
      await c.waitFor('$7\r\ncontrol\r\n');
      expect(proxy.pending).toBe('ECHO held\r\n'.length);
      expect(echoes(server)).toBe(echoesBefore + 1); // the control's ECHO only
    } finally {
      await control.close();
    }
    expect(a.received()).toBe('');
    proxy.heal();
    await a.waitFor('$4\r\nheld\r\n');
    expect(a.isClosed()).toBe(false);
  });

  it('close stops listening and drops every connection', async () => {
    proxy = await startFaultProxy({ target: { host: server.host, port: server.port } });
    const a = await raw();
    await proxy.close();
    await a.waitClosed();
    await expect(rawConnect(proxy.port)).rejects.toThrow(/ECONNREFUSED/);
    await proxy.close(); // twice is fine
  });

  it('passes on a refused target as a closed connection', async () => {
    const stopped = await startRedisServer();
    const port = stopped.port;
    await stopped.stop();
    proxy = await startFaultProxy({ target: { host: '127.0.0.1', port } });
    const a = await raw();
    await a.waitClosed();
    expect(proxy.connections).toBe(0);
  });
});
