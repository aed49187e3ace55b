import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DashboardAuth } from './auth.js';
import { DashboardServer, type DashboardHandlers } from './http-server.js';
import type { DashboardState, SamplerEvent } from './sampler.js';
import { SERVER_LIMITS, type ServerLimits } from './server-limits.js';

// The dashboard's HTTP server on a loopback port with handlers of the test's own, and clients
// that read nothing: raw sockets paused after the first bytes. On loopback the kernel takes about
// 4 MB of a response that nobody reads before the rest waits in the process, so the answers that
// must wait here are 16 MB (and the tests that move them get 30 s on a loaded machine).

const MB = 1024 * 1024;
const servers: DashboardServer[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close(500)));
});

/** A server with `limits` over the defaults; `customer` and `state` as the test gives them. */
async function startServer(limits: Partial<ServerLimits>, handlers: Partial<DashboardHandlers> = {}) {
  const listeners = new Set<(event: SamplerEvent) => void>();
  const server = new DashboardServer(
    new DashboardAuth({ token: undefined, port: 0 }),
    {
      state: () => ({ info: {}, samples: [] }) as unknown as DashboardState,
      subscribe: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      customer: async (id) => ({ customer: id, entries: [] }),
      frames: async () => ({ frames: [] }),
      frame: async () => null,
      ...handlers,
    },
    new Map(),
    { ...SERVER_LIMITS, ...limits },
  );
  servers.push(server);
  await server.listen('127.0.0.1', 0);
  return { server, base: `http://127.0.0.1:${server.port}`, emit: (event: SamplerEvent) => listeners.forEach((l) => l(event)) };
}

/**
 * A client that sends `GET path`, keeps the first bytes of the answer and then reads nothing more
 * (so it cannot see the connection end either: the tests watch the server instead).
 */
function stalledClient(port: number, path: string): { socket: Socket; head: Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  const head = new Promise<string>((resolve, reject) => {
    socket.once('data', (data: Buffer) => {
      socket.pause();
      resolve(data.toString('latin1'));
    });
    socket.once('error', reject);
  });
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  return { socket, head };
}

/** What a paused client is sent once it reads again: everything until `until` appears, or the connection ends. */
function readUntil(socket: Socket, until: string): Promise<{ text: string; ended: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (data: Buffer) => {
      text += data.toString('latin1');
      if (text.includes(until)) resolve({ text, ended: false });
    });
    socket.once('close', () => resolve({ text, ended: true }));
    socket.once('error', () => undefined);
    socket.resume();
  });
}

describe('requests that read Redis (lookups, frame lists, previews)', () => {
  it('runs expensiveInFlight at once, queues expensiveQueue more, and answers the next 503 with Retry-After', async () => {
    const gates: (() => void)[] = [];
    let running = 0;
    let most = 0;
    const { base } = await startServer({ expensiveInFlight: 1, expensiveQueue: 1 }, {
      customer: async (id) => {
        most = Math.max(most, ++running);
        await new Promise<void>((resolve) => gates.push(resolve));
        running--;
        return { customer: id, entries: [] };
      },
    });
    const first = fetch(`${base}/api/customer?id=A`);
    await vi.waitFor(() => expect(gates).toHaveLength(1));
    const second = fetch(`${base}/api/frames`);
    const third = await fetch(`${base}/api/customer?id=C`);
    expect(third.status).toBe(503);
    expect(third.headers.get('retry-after')).toBe('2');
    expect(((await third.json()) as { error: { code: string; message: string } }).error).toEqual({
      code: 'E_BUSY', message: expect.stringContaining('1 lookups, frame lists or previews are running and 1 more are waiting'),
    });
    // The page and the state are not queued behind them.
    expect((await fetch(`${base}/api/state`)).status).toBe(200);
    gates[0]!();
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    expect(most).toBe(1);
  });

  it('answers 503 to a request that waited expensiveWaitMs for its turn', async () => {
    let release: (() => void) | undefined;
    const { base } = await startServer({ expensiveInFlight: 1, expensiveQueue: 1, expensiveWaitMs: 200 }, {
      customer: async (id) => {
        await new Promise<void>((resolve) => (release = resolve));
        return { customer: id, entries: [] };
      },
    });
    const first = fetch(`${base}/api/customer?id=A`);
    await vi.waitFor(() => expect(release).toBeDefined());
    const waited = await fetch(`${base}/api/frames`);
    expect(waited.status).toBe(503);
    expect(((await waited.json()) as { error: { message: string } }).error.message).toContain('no turn came for these frame lists within 0.2 s');
    release!();
    expect((await first).status).toBe(200);
  });
});

describe('bytes waiting for slow clients', () => {
  const big = { blob: 'x'.repeat(16 * MB) };

  it('refuses a large answer with 503 while answers waiting for clients would pass pendingBytes', { timeout: 30_000 }, async () => {
    const { server, base } = await startServer({ pendingBytes: 24 * MB, smallResponseBytes: 1024 }, { customer: async () => big });
    const port = server.port;
    const slow = stalledClient(port, '/api/customer?id=A');
    expect(await slow.head).toMatch(/^HTTP\/1\.1 200 /);
    await vi.waitFor(() => expect(server.pendingBytes).toBeGreaterThan(8 * MB), { timeout: 10_000, interval: 50 });
    const next = stalledClient(port, '/api/customer?id=B');
    expect(await next.head).toMatch(/^HTTP\/1\.1 503 [\s\S]*Retry-After: 2/i);
    expect(server.pendingBytes).toBeLessThanOrEqual(24 * MB);
    // Small answers (the page, errors) still go out.
    expect((await fetch(`${base}/api/state`)).status).toBe(200);
    slow.socket.destroy();
    await vi.waitFor(() => expect(server.pendingBytes).toBe(0), { timeout: 10_000, interval: 50 });
    const res = await fetch(`${base}/api/customer?id=C`);
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(16 * MB);
  });

  it('cuts a client that has not taken its answer within drainMs', { timeout: 30_000 }, async () => {
    const { server } = await startServer({ drainMs: 300 }, { customer: async () => big });
    const slow = stalledClient(server.port, '/api/customer?id=A');
    expect(await slow.head).toMatch(/^HTTP\/1\.1 200 /);
    await vi.waitFor(() => expect(server.pendingBytes).toBe(0), { timeout: 10_000, interval: 50 });
    // The client, reading again, finds the answer cut short.
    const { text, ended } = await readUntil(slow.socket, '"}');
    expect(ended).toBe(true);
    expect(text.length).toBeLessThan(16 * MB);
  });
});

describe('event streams', () => {
  it('gives a new page a slot when every slot is held by clients that read nothing: the stream open longest ends with a closed event', async () => {
    const { server, base } = await startServer({ eventStreams: 2 });
    const idle = [stalledClient(server.port, '/api/events'), stalledClient(server.port, '/api/events')];
    for (const client of idle) expect(await client.head).toMatch(/^HTTP\/1\.1 200 /);
    await vi.waitFor(() => expect(server.eventStreams).toBe(2));
    const page = await fetch(`${base}/api/events`);
    expect(page.status).toBe(200);
    const reader = (page.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('event: state')) text += new TextDecoder().decode((await reader.read()).value);
    expect(server.eventStreams).toBe(2);
    const { text: oldest } = await readUntil(idle[0]!.socket, 'reconnect"}');
    expect(oldest).toContain('event: closed\ndata: {"reason":"2 dashboard pages were open and a newer one took this one\'s place; reload the page to reconnect"}');
    await reader.cancel();
  });

  it('cuts a stream whose client takes nothing for streamStallMs, and frees its slot', { timeout: 30_000 }, async () => {
    const state = { info: {}, samples: [], padding: 'x'.repeat(16 * MB) } as unknown as DashboardState;
    const { server } = await startServer({ streamStallMs: 300 }, { state: () => state });
    const idle = stalledClient(server.port, '/api/events');
    expect(await idle.head).toMatch(/^HTTP\/1\.1 200 /);
    await vi.waitFor(() => expect(server.eventStreams).toBe(1));
    await vi.waitFor(() => expect({ streams: server.eventStreams, pending: server.pendingBytes }).toEqual({ streams: 0, pending: 0 }), { timeout: 10_000, interval: 50 });
    expect((await readUntil(idle.socket, 'never sent')).ended).toBe(true);
  });

  it('cuts a stream that leaves more than streamPendingBytes of events unread', { timeout: 30_000 }, async () => {
    const { server, emit } = await startServer({ streamPendingBytes: 1 * MB, streamStallMs: 600_000 });
    const idle = stalledClient(server.port, '/api/events');
    expect(await idle.head).toMatch(/^HTTP\/1\.1 200 /);
    await vi.waitFor(() => expect(server.eventStreams).toBe(1));
    // Samples of 256 KB: the kernel takes some 4 MB, then a megabyte waits here, then it is cut.
    for (let i = 0; i < 64 && server.eventStreams === 1; i++) {
      emit({ type: 'sample', data: { padding: 'y'.repeat(256 * 1024) } as never });
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(server.eventStreams).toBe(0);
    expect((await readUntil(idle.socket, 'never sent')).ended).toBe(true);
  });
});
