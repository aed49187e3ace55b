import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { CliError, errorCodeOf, exitCodeFor } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import type { DashboardAsset } from './assets.js';
import type { DashboardAuth } from './auth.js';
import { parseClearRequest, type ClearOutcome, type ClearRequest } from './clears.js';
import { EventStreamWriter } from './event-stream.js';
import { RequestLimiter } from './request-limiter.js';
import type { DashboardState, SamplerEvent } from './sampler.js';
import { RETRY_AFTER_SECONDS, SERVER_LIMITS, type ServerLimits } from './server-limits.js';

/** What the server asks of the rest of the dashboard. */
export interface DashboardHandlers {
  state(): DashboardState;
  subscribe(listener: (event: SamplerEvent) => void): () => void;
  /** A customer's entries; throws E_INVALID_KEY for a bad id. */
  customer(id: string): Promise<unknown>;
  frames(): Promise<unknown>;
  /** A frame's schema and first rows; null when not cached. */
  frame(name: string): Promise<unknown>;
  /** Present only with `--allow-writes`. */
  clear?: ((request: ClearRequest) => Promise<ClearOutcome>) | undefined;
}

/**
 * The page may run only its own script and styles, talk only to this server, be framed by no
 * one, and load nothing from anywhere else: injected markup could neither run nor call out.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

/** Largest request body accepted, in bytes (a clear request is a few dozen). */
const MAX_BODY_BYTES = 16 * 1024;
/** A comment on every event stream this often, in ms, so that proxies keep it open. */
const HEARTBEAT_MS = 15_000;

/** One open event stream. */
interface OpenStream {
  writer: EventStreamWriter;
  /** Bytes of its first state event: it may leave that much unread, plus streamPendingBytes. */
  stateBytes: number;
  /** Ends it, with a last `closed` event saying `reason` when its client reads, cut otherwise; its slot is free at once. */
  close(reason: string): void;
}

/** An HTTP status for an error thrown by a handler. */
function statusOf(error: unknown): number {
  switch (exitCodeFor(error)) {
    case ExitCode.USAGE:
      return 400;
    case ExitCode.UNAVAILABLE:
      return 503;
    case ExitCode.NOT_FOUND:
      return 404;
    default:
      return 500;
  }
}

/**
 * The dashboard's HTTP side: the page, its assets, a JSON API and a server-sent event stream, each
 * behind {@link DashboardAuth}, within {@link ServerLimits}: requests that read Redis wait their
 * turn in a bounded queue, bytes waiting for slow clients have a budget, and event streams whose
 * clients stop reading are cut.
 */
export class DashboardServer {
  readonly #server: Server;
  readonly #auth: DashboardAuth;
  readonly #handlers: DashboardHandlers;
  readonly #assets: ReadonlyMap<string, DashboardAsset>;
  readonly #limits: Readonly<ServerLimits>;
  readonly #expensive: RequestLimiter;
  readonly #streams = new Map<ServerResponse, OpenStream>();
  /** Responses whose bytes may still be waiting for their client (event streams are counted by their writers). */
  readonly #outgoing = new Set<ServerResponse>();
  /** Every open connection, and those with a response in flight: keep-alive connections are closed on shutdown, busy ones once answered. */
  readonly #sockets = new Set<Socket>();
  readonly #busy = new Set<Socket>();
  #sweep: NodeJS.Timeout | undefined;
  #closing = false;

  constructor(auth: DashboardAuth, handlers: DashboardHandlers, assets: ReadonlyMap<string, DashboardAsset>, limits: Readonly<ServerLimits> = SERVER_LIMITS) {
    this.#auth = auth;
    this.#handlers = handlers;
    this.#assets = assets;
    this.#limits = limits;
    this.#expensive = new RequestLimiter({ inFlight: limits.expensiveInFlight, queue: limits.expensiveQueue, waitMs: limits.expensiveWaitMs });
    this.#server = createServer((req, res) => {
      const socket = req.socket;
      this.#busy.add(socket);
      res.on('close', () => {
        this.#busy.delete(socket);
        if (this.#closing) socket.destroy();
      });
      this.#handle(req, res).catch((error: unknown) => this.#fail(res, error));
    });
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    // Slow or idle clients must not hold sockets for ever; event streams are kept alive by heartbeats.
    this.#server.headersTimeout = 10_000;
    this.#server.requestTimeout = 30_000;
  }

  /** Bytes written for clients and not yet taken by them, over every response and event stream. */
  get pendingBytes(): number {
    let bytes = 0;
    for (const res of this.#outgoing) bytes += res.writableLength;
    for (const stream of this.#streams.values()) bytes += stream.writer.pendingBytes;
    return bytes;
  }

  /** Event streams open now. */
  get eventStreams(): number {
    return this.#streams.size;
  }

  /** Listens on `host:port`; throws E_USAGE naming the address when it cannot (in use, not on this machine, not allowed). */
  async listen(host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        this.#server.off('listening', onListening);
        const why =
          error.code === 'EADDRINUSE' ? 'the port is in use; choose another with --port'
          : error.code === 'EADDRNOTAVAIL' ? 'that address is not one of this machine\'s; see --host'
          : error.code === 'EACCES' ? 'not allowed to listen there (ports below 1024 need privileges)'
          : error.message;
        reject(new CliError('E_USAGE', `the dashboard cannot listen on ${host}:${port}: ${why} (${error.code ?? 'error'})`, { cause: error }));
      };
      const onListening = () => {
        this.#server.off('error', onError);
        resolve();
      };
      this.#server.once('error', onError);
      this.#server.once('listening', onListening);
      this.#server.listen(port, host);
    });
  }

  /** The port it listens on (useful after listening on port 0). */
  get port(): number {
    const address = this.#server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** Ends every event stream and stops listening; connections still open after `timeoutMs` are cut. */
  async close(timeoutMs = 3000): Promise<void> {
    this.#closing = true;
    clearInterval(this.#sweep);
    // Each stream ends once its client has taken what waits (or is cut with the rest below).
    for (const stream of this.#streams.values()) stream.writer.end();
    this.#streams.clear();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    // Keep-alive connections (including ones a client opened and has not used yet) would hold the
    // server open until they time out: close those without a response in flight now, the others
    // once answered, and everything after `timeoutMs`.
    for (const socket of this.#sockets) if (!this.#busy.has(socket)) socket.destroy();
    const cut = setTimeout(() => this.#server.closeAllConnections(), timeoutMs);
    await closed;
    clearTimeout(cut);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    if (this.#closing) res.setHeader('Connection', 'close');
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    const path = url.pathname;
    const queryToken = path === '/' ? url.searchParams.get('token') : null;
    const auth = this.#auth.check(req, queryToken);
    if (!auth.ok) {
      if (auth.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="finrisk-cache dashboard"');
      return this.#text(res, auth.status, `${auth.status === 401 ? 'Unauthorized' : 'Forbidden'}: ${auth.message}\n`);
    }
    if (req.method === 'POST' && path === '/api/clear') return this.#clear(req, res);
    if (req.method !== 'GET') {
      res.setHeader('Allow', path === '/api/clear' ? 'POST' : 'GET');
      return this.#text(res, 405, 'Method Not Allowed\n');
    }
    if (path === '/' && queryToken !== null) {
      // The token has done its job: keep it in an HttpOnly cookie and take it out of the address bar and history.
      const secure = req.headers['x-forwarded-proto'] === 'https';
      res.writeHead(303, { 'Set-Cookie': this.#auth.sessionCookie(secure), Location: '/' });
      return void res.end();
    }
    if (path === '/' || path === '/index.html') return this.#asset(res, 'index.html');
    if (path.startsWith('/assets/')) return this.#asset(res, path.slice('/assets/'.length));
    switch (path) {
      case '/api/state':
        return this.#json(res, 200, this.#handlers.state());
      case '/api/events':
        return this.#events(req, res);
      case '/api/customer': {
        const id = url.searchParams.get('id') ?? '';
        if (id === '') throw new CliError('E_BAD_INPUT', 'give a customer id: /api/customer?id=CUST001');
        return this.#expensiveJson(res, 'customer lookups', () => this.#handlers.customer(id));
      }
      case '/api/frames':
        return this.#expensiveJson(res, 'frame lists', () => this.#handlers.frames());
      case '/api/frame': {
        const name = url.searchParams.get('name') ?? '';
        if (name === '') throw new CliError('E_BAD_INPUT', 'give a data frame name: /api/frame?name=customer_data');
        return this.#expensiveJson(res, 'frame previews', async () => {
          const frame = await this.#handlers.frame(name);
          if (frame === null) throw new CliError('E_NOT_FOUND', `no data frame named ${name} is cached`);
          return frame;
        });
      }
      default:
        return this.#text(res, 404, 'Not Found\n');
    }
  }

  /**
   * Answers with what `build` returns, once one of the slots for requests that read Redis is free:
   * past the queue, or after waiting too long, the answer is 503 with Retry-After; a client that
   * leaves while it waits gives its place up.
   */
  async #expensiveJson(res: ServerResponse, what: string, build: () => Promise<unknown>): Promise<void> {
    const left = new AbortController();
    const onClose = () => left.abort();
    res.once('close', onClose);
    const slot = await this.#expensive.acquire(left.signal);
    res.off('close', onClose);
    if (slot === 'gone') return;
    if (slot === 'queue-full' || slot === 'timed-out') {
      const l = this.#limits;
      return this.#refuseBusy(
        res,
        slot === 'queue-full'
          ? `the dashboard is busy: ${l.expensiveInFlight} lookups, frame lists or previews are running and ${l.expensiveQueue} more are waiting; try again shortly`
          : `the dashboard is busy: no turn came for these ${what} within ${l.expensiveWaitMs / 1000} s; try again shortly`,
      );
    }
    try {
      const value = await build();
      this.#json(res, 200, value);
    } finally {
      slot();
    }
  }

  #asset(res: ServerResponse, name: string): void {
    const asset = this.#assets.get(name);
    if (!asset) return this.#text(res, 404, 'Not Found\n');
    this.#send(res, 200, asset.contentType, asset.body);
  }

  #events(req: IncomingMessage, res: ServerResponse): void {
    const limits = this.#limits;
    const state = Buffer.from(`event: state\ndata: ${JSON.stringify(this.#handlers.state())}\n\n`, 'utf8');
    const overBudget = () => state.length > limits.smallResponseBytes && this.pendingBytes + state.length > limits.pendingBytes;
    // Room for the new page's state: streams whose clients leave the most unread go first.
    while (overBudget()) {
      const stalled = [...this.#streams.values()].filter((s) => s.writer.pendingBytes > 0).sort((a, b) => b.writer.pendingBytes - a.writer.pendingBytes)[0];
      if (!stalled) break;
      stalled.close('its client was not reading it');
    }
    if (overBudget()) return this.#refuseBusy(res, 'the dashboard is busy: answers are waiting for clients that do not read them; try again shortly');
    if (this.#streams.size >= limits.eventStreams) {
      // A live page cannot be told from a client that reads nothing until the kernel's buffers
      // (megabytes) are full: so a new page load always gets in, in the place of the stream that
      // leaves the most unread, else of the one open longest.
      const victim = [...this.#streams.values()].sort((a, b) => b.writer.pendingBytes - a.writer.pendingBytes || a.writer.openedAt - b.writer.openedAt)[0]!;
      victim.close(`${limits.eventStreams} dashboard pages were open and a newer one took this one's place; reload the page to reconnect`);
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    const writer = new EventStreamWriter(res);
    let ended = false;
    const done = () => {
      if (ended) return;
      ended = true;
      clearInterval(heartbeat);
      unsubscribe();
      this.#streams.delete(res);
    };
    const stream: OpenStream = {
      writer,
      stateBytes: state.length,
      close: (reason) => {
        done();
        if (writer.pendingBytes > 0) return writer.destroy();
        writer.end(`event: closed\ndata: ${JSON.stringify({ reason })}\n\n`);
      },
    };
    const send = (type: string, data: unknown) => {
      // A client that does not read would have its events pile up here: it is cut off instead (a
      // page's EventSource reconnects to a fresh state).
      if (writer.pendingBytes > stream.stateBytes + limits.streamPendingBytes) {
        done();
        return writer.destroy();
      }
      writer.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    writer.write('retry: 2000\n\n');
    writer.write(state);
    const unsubscribe = this.#handlers.subscribe((event) => send(event.type, event.data));
    const heartbeat = setInterval(() => writer.write(': heartbeat\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    this.#streams.set(res, stream);
    this.#startSweep();
    req.on('close', done);
    res.on('close', done);
  }

  /** Checks the event streams a few times per streamStallMs while any is open: one whose client took nothing for that long is cut. */
  #startSweep(): void {
    if (this.#sweep) return;
    this.#sweep = setInterval(() => {
      if (this.#streams.size === 0) {
        clearInterval(this.#sweep);
        this.#sweep = undefined;
        return;
      }
      const now = Date.now();
      for (const stream of [...this.#streams.values()]) {
        if (now - stream.writer.progressAt > this.#limits.streamStallMs) stream.close('its client took nothing for too long');
      }
    }, Math.max(50, Math.min(1000, this.#limits.streamStallMs / 4)));
    this.#sweep.unref();
  }

  async #clear(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const clear = this.#handlers.clear;
    if (!clear) return this.#json(res, 403, { error: { code: 'E_READ_ONLY', message: 'this dashboard is read-only: start it with --allow-writes to clear entries' } });
    // A page elsewhere cannot post here: browsers send Origin on every POST, and it must be this server.
    const origin = req.headers.origin;
    let sameOrigin = false;
    try {
      sameOrigin = origin !== undefined && new URL(origin).host === req.headers.host;
    } catch {
      sameOrigin = false;
    }
    if (!sameOrigin) return this.#json(res, 403, { error: { code: 'E_ORIGIN', message: 'clears are accepted only from the dashboard\'s own page' } });
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) throw new CliError('E_BAD_INPUT', 'a clear is a JSON request (Content-Type: application/json)');
    const body = await readBody(req);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new CliError('E_BAD_INPUT', 'the clear request is not valid JSON');
    }
    const request = parseClearRequest(parsed);
    this.#json(res, 200, { ok: true, ...(await clear(request)) });
  }

  #json(res: ServerResponse, status: number, value: unknown): void {
    this.#send(res, status, 'application/json; charset=utf-8', Buffer.from(JSON.stringify(value), 'utf8'));
  }

  #text(res: ServerResponse, status: number, text: string): void {
    this.#send(res, status, 'text/plain; charset=utf-8', Buffer.from(text, 'utf8'));
  }

  /** 503 with Retry-After and the reason, as JSON (a few hundred bytes: sent whatever the budget). */
  #refuseBusy(res: ServerResponse, message: string): void {
    res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    this.#send(res, 503, 'application/json; charset=utf-8', Buffer.from(JSON.stringify({ error: { code: 'E_BUSY', message } }), 'utf8'), false);
  }

  /**
   * Writes a whole response within the budget of bytes waiting for clients (a large one that
   * would pass it is refused with 503 instead), and cuts the connection if its client has not
   * taken it within drainMs.
   */
  #send(res: ServerResponse, status: number, contentType: string, body: Buffer, withinBudget = true): void {
    const limits = this.#limits;
    if (withinBudget && body.length > limits.smallResponseBytes && this.pendingBytes + body.length > limits.pendingBytes) {
      return this.#refuseBusy(
        res,
        `the dashboard is busy: ${Math.round(this.pendingBytes / 1024 / 1024)} MiB of answers are waiting for clients that do not read them; try again shortly`,
      );
    }
    res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': body.length });
    res.end(body);
    if (res.writableFinished) return;
    this.#outgoing.add(res);
    const cut = setTimeout(() => res.destroy(), limits.drainMs);
    cut.unref();
    const settled = () => {
      clearTimeout(cut);
      this.#outgoing.delete(res);
    };
    res.once('finish', settled);
    res.once('close', settled);
  }

  #fail(res: ServerResponse, error: unknown): void {
    if (res.headersSent) return void res.destroy();
    const message = error instanceof Error ? error.message : String(error);
    this.#json(res, statusOf(error), { error: { code: errorCodeOf(error), message } });
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new CliError('E_BAD_INPUT', `the request body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
