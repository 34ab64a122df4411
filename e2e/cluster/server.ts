/**
 * The site's mirror server: `node dist/e2e/cluster/server.js CONFIG.json`, started by startSite inside the network
 * namespace the hosts reach it in. HTTPS on one address (a certificate of the site CA), it serves the site folder
 * (apt repositories, files) and passes /v2/ to the distribution registry on the namespace's loopback. Every request
 * is appended to the request log as one JSON line (method, path, status, bytes, and the allow list's verdict);
 * "ready" on stdout once it listens and the registry answers.
 */
import { createReadStream, readFileSync, statSync, appendFileSync } from 'node:fs';
import { createServer, request, type RequestOptions } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, normalize } from 'node:path';
import { classify, type AllowList, type Verdict } from './allowlist.js';

/** What startSite writes for the server. */
export interface ServerConfig {
  host: string;
  port: number;
  cert: string;
  key: string;
  root: string;
  registry: { port: number; ca: string };
  allow: AllowList;
  log: string;
}

/** One logged request. */
export interface RequestRecord {
  time: string;
  method: string;
  path: string;
  status: number;
  bytes: number;
  verdict: Verdict;
  /** Set when the client went away before the whole response was sent. */
  aborted?: true;
}

/** Counts what a response body sends. */
function counted(res: ServerResponse): { bytes: () => number } {
  let bytes = 0;
  const write = res.write.bind(res);
  res.write = ((chunk: Buffer | string, ...rest: unknown[]) => {
    bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof res.write;
  return { bytes: () => bytes };
}

/** Serves a file of the site folder (404 for folders, missing files and paths escaping the root). */
function serveFile(config: ServerConfig, req: IncomingMessage, res: ServerResponse): void {
  let path: string;
  try {
    path = decodeURIComponent(new URL(req.url ?? '/', 'https://site').pathname);
  } catch {
    path = '/..';
  }
  const file = normalize(join(config.root, path));
  const stat = file.startsWith(`${config.root}/`) ? statSync(file, { throwIfNoEntry: false }) : undefined;
  if (!stat?.isFile()) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': stat.size, 'last-modified': stat.mtime.toUTCString() });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).pipe(res);
}

/** Passes a registry API request to the registry on loopback, verifying its certificate with the site CA. */
function proxyRegistry(config: ServerConfig, ca: Buffer, req: IncomingMessage, res: ServerResponse): void {
  const options: RequestOptions = {
    host: '127.0.0.1',
    port: config.registry.port,
    method: req.method,
    path: req.url,
    headers: { ...req.headers, host: `127.0.0.1:${config.registry.port}` },
    ca,
  };
  const upstream = request(options, (up) => {
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
  });
  upstream.once('error', (e) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`registry: ${e.message}\n`);
  });
  req.pipe(upstream);
}

/** Handles one request: classify, serve or pass on, log. */
function handle(config: ServerConfig, ca: Buffer, req: IncomingMessage, res: ServerResponse): void {
  const method = req.method ?? 'GET';
  const target = req.url ?? '/';
  const verdict = classify(config.allow, method, target);
  const body = counted(res);
  // 'close' comes after 'finish', and also when the client goes away first: every request is logged.
  res.once('close', () => {
    const record: RequestRecord = {
      time: new Date().toISOString(),
      method,
      path: target,
      status: res.statusCode,
      bytes: body.bytes(),
      verdict,
      ...(res.writableFinished ? {} : { aborted: true }),
    };
    appendFileSync(config.log, `${JSON.stringify(record)}\n`);
  });
  if (target.startsWith('/v2/') || target === '/v2') proxyRegistry(config, ca, req, res);
  else if (method === 'GET' || method === 'HEAD') serveFile(config, req, res);
  else {
    res.writeHead(405, { 'content-type': 'text/plain' });
    res.end('read-only\n');
  }
}

/** Waits (up to 30 s) for the registry to answer GET /v2/ over TLS. */
async function registryUp(config: ServerConfig, ca: Buffer): Promise<void> {
  for (let i = 0; i < 150; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const r = request({ host: '127.0.0.1', port: config.registry.port, path: '/v2/', ca, timeout: 1000 }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      r.once('error', () => resolve(false));
      r.end();
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the registry on 127.0.0.1:${config.registry.port} did not answer within 30 s`);
}

const config = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as ServerConfig;
const ca = readFileSync(config.registry.ca);
await registryUp(config, ca);
const server = createServer({ cert: readFileSync(config.cert), key: readFileSync(config.key) }, (req, res) => handle(config, ca, req, res));
server.listen(config.port, config.host, () => console.log('ready'));
server.once('error', (e) => {
  console.error(`mirror server: ${e.message}`);
  process.exit(1);
});
for (const s of ['SIGTERM', 'SIGINT'] as const) {
  process.once(s, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
