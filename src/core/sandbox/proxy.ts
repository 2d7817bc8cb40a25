// Network for the hosts a policy names. The sandbox has no network of its own; this HTTP proxy runs in the parent
// on a unix socket (bound into the sandbox, where socat forwards a loopback port to it) and lets through only
// CONNECT tunnels and plain HTTP requests to the named hosts. Anything else gets a 403 that names the host, so the
// model (and the user) can tell a refusal from an outage.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';

/** Exact (case-insensitive), or "*.example.com" for its subdomains (not example.com itself). */
export function hostAllowed(host: string, hosts: string[]): boolean {
  const h = host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  return hosts.some((pattern) => {
    const p = pattern.toLowerCase().trim();
    if (p.startsWith('*.')) return h.endsWith(p.slice(1)) && h.length > p.length - 1;
    return h === p;
  });
}

export interface SandboxProxy {
  socket: string;
  /** The hosts refused so far, for the run's notes. */
  refused: string[];
  close(): Promise<void>;
}

/** The proxy variables for a command whose sandbox forwards 127.0.0.1:port to the proxy. Loopback is the
 * sandbox's own (a server a test starts inside), so it bypasses the proxy. */
export function proxyEnv(port: number): Record<string, string> {
  const url = `http://127.0.0.1:${port}`;
  const noProxy = 'localhost,127.0.0.1,::1';
  return {
    HTTP_PROXY: url,
    HTTPS_PROXY: url,
    http_proxy: url,
    https_proxy: url,
    ALL_PROXY: url,
    all_proxy: url,
    NO_PROXY: noProxy,
    no_proxy: noProxy,
  };
}

function splitHostPort(authority: string): { host: string; port: number } | null {
  const m = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(authority);
  if (!m) return null;
  const port = Number(m[2]);
  return m[1] && port > 0 && port < 65536 ? { host: m[1], port } : null;
}

/** Records a refused host for the run's notes and returns the refusal's text (shared by both handlers). */
type Refusal = (host: string) => string;
/** Remembers an open socket so close() can end it (shared by both handlers). */
type Track = (s: Duplex) => void;

/** A plain HTTP request: forwarded to an allowed host without the proxy's own headers; split out of startProxy so
 * each kind of traffic reads on its own. */
function forward(req: IncomingMessage, res: ServerResponse, hosts: string[], refusal: Refusal): void {
  let url: URL;
  try {
    url = new URL(req.url ?? '');
    if (url.protocol !== 'http:') throw new Error('not http');
  } catch {
    res
      .writeHead(400, { 'content-type': 'text/plain' })
      .end('switchyard sandbox: the proxy takes absolute http:// URLs or CONNECT\n');
    return;
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!hostAllowed(host, hosts)) {
    res.writeHead(403, { 'content-type': 'text/plain', connection: 'close' }).end(refusal(host));
    return;
  }
  const headers = { ...req.headers };
  for (const h of Object.keys(headers)) if (h.startsWith('proxy-')) delete headers[h];
  const up = request(
    { host, port: url.port || 80, method: req.method, path: url.pathname + url.search, headers },
    (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    },
  );
  up.on('error', (e) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`switchyard sandbox: ${host}: ${e.message}\n`);
  });
  req.pipe(up);
}

/** A CONNECT: a tunnel to an allowed host and port, both sockets tracked so close() can end them; split out of
 * startProxy so each kind of traffic reads on its own. */
function tunnel(
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  hosts: string[],
  refusal: Refusal,
  track: Track,
): void {
  track(client);
  client.on('error', () => client.destroy());
  const target = splitHostPort(req.url ?? '');
  if (!target) {
    client.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    return;
  }
  if (!hostAllowed(target.host, hosts)) {
    const body = refusal(target.host);
    client.end(
      `HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
    return;
  }
  const up: Socket = connect(target.port, target.host, () => {
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) up.write(head);
    up.pipe(client);
    client.pipe(up);
  });
  track(up);
  up.on('error', (e) => {
    if (client.writable) client.end(`HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n${e.message}\n`);
    else client.destroy();
  });
}

export async function startProxy(hosts: string[]): Promise<SandboxProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-net-'));
  const socket = join(dir, 'proxy.sock');
  const refused: string[] = [];
  const open = new Set<Duplex>();
  const track = (s: Duplex) => {
    open.add(s);
    s.once('close', () => open.delete(s));
  };
  const refusal = (host: string) => {
    if (!refused.includes(host)) refused.push(host);
    return (
      `switchyard sandbox: the network host ${host} was refused: this command may reach only the hosts the ` +
      `policy names (network.hosts: ${hosts.join(', ')})\n`
    );
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => forward(req, res, hosts, refusal));
  server.on('connection', track);
  server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) =>
    tunnel(req, client, head, hosts, refusal, track),
  );

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(socket, () => ok());
  });
  return {
    socket,
    refused,
    close: async () => {
      for (const s of open) s.destroy();
      await new Promise<void>((ok) => server.close(() => ok()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
