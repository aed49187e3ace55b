import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { CliError, errorCodeOf, exitCodeFor } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import type { DashboardAsset } from './assets.js';
import type { DashboardAuth } from './auth.js';
import { parseClearRequest, type ClearOutcome, type ClearRequest } from './clears.js';
import type { DashboardState, SamplerEvent } from './sampler.js';

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

/** Most event streams open at once (each browser tab holds one). */
export const MAX_EVENT_STREAMS = 32;
/** Largest request body accepted, in bytes (a clear request is a few dozen). */
const MAX_BODY_BYTES = 16 * 1024;
/** Bytes of events a stream may have waiting for a slow client before it is closed. */
const MAX_PENDING_EVENT_BYTES = 4 * 1024 * 1024;
/** A comment on every event stream this often, in ms, so that proxies keep it open. */
const HEARTBEAT_MS = 15_000;

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

/** The dashboard's HTTP side: the page, its assets, a JSON API and a server-sent event stream, each behind {@link DashboardAuth}. */
export class DashboardServer {
  readonly #server: Server;
  readonly #auth: DashboardAuth;
  readonly #handlers: DashboardHandlers;
  readonly #assets: ReadonlyMap<string, DashboardAsset>;
  readonly #streams = new Set<ServerResponse>();
  /** Every open connection, and those with a response in flight: keep-alive connections are closed on shutdown, busy ones once answered. */
  readonly #sockets = new Set<Socket>();
  readonly #busy = new Set<Socket>();
  #closing = false;

  constructor(auth: DashboardAuth, handlers: DashboardHandlers, assets: ReadonlyMap<string, DashboardAsset>) {
    this.#auth = auth;
    this.#handlers = handlers;
    this.#assets = assets;
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

  /** Ends every event stream and stops listening; connections still open after `timeoutMs` are cut. */
  async close(timeoutMs = 3000): Promise<void> {
    this.#closing = true;
    for (const stream of this.#streams) stream.end();
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
        return this.#json(res, 200, await this.#handlers.customer(id));
      }
      case '/api/frames':
        return this.#json(res, 200, await this.#handlers.frames());
      case '/api/frame': {
        const name = url.searchParams.get('name') ?? '';
        if (name === '') throw new CliError('E_BAD_INPUT', 'give a data frame name: /api/frame?name=customer_data');
        const frame = await this.#handlers.frame(name);
        if (frame === null) throw new CliError('E_NOT_FOUND', `no data frame named ${name} is cached`);
        return this.#json(res, 200, frame);
      }
      default:
        return this.#text(res, 404, 'Not Found\n');
    }
  }

  #asset(res: ServerResponse, name: string): void {
    const asset = this.#assets.get(name);
    if (!asset) return this.#text(res, 404, 'Not Found\n');
    res.writeHead(200, { 'Content-Type': asset.contentType, 'Content-Length': asset.body.length });
    res.end(asset.body);
  }

  #events(req: IncomingMessage, res: ServerResponse): void {
    if (this.#streams.size >= MAX_EVENT_STREAMS) return this.#text(res, 503, `Too many open dashboards (${MAX_EVENT_STREAMS}); close one\n`);
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    const send = (type: string, data: unknown) => {
      // A client that does not read would have its events pile up here: it is cut off instead, and
      // its EventSource reconnects to a fresh state.
      if (res.writableLength > MAX_PENDING_EVENT_BYTES) return void res.destroy();
      res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    res.write('retry: 2000\n\n');
    send('state', this.#handlers.state());
    const unsubscribe = this.#handlers.subscribe((event) => send(event.type, event.data));
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    this.#streams.add(res);
    const done = () => {
      clearInterval(heartbeat);
      unsubscribe();
      this.#streams.delete(res);
    };
    req.on('close', done);
    res.on('close', done);
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
    const body = Buffer.from(JSON.stringify(value), 'utf8');
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length });
    res.end(body);
  }

  #text(res: ServerResponse, status: number, text: string): void {
    const body = Buffer.from(text, 'utf8');
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length });
    res.end(body);
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
