/** Test harness for load balancers: network namespaces, private mounts, real haproxy/keepalived and fake API servers. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Result of a finished command. */
export interface Ran {
  status: number | null;
  signal: NodeJS.Signals | null;
  out: string;
}

/** Runs a command to completion (bounded by timeoutMs) and returns its status and merged output. */
export function sh(args: readonly string[], timeoutMs = 20_000): Ran {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, signal: r.signal, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** Runs a command and throws with its output unless it succeeds. */
export function must(args: readonly string[]): string {
  const r = sh(args);
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status ?? r.signal}): ${r.out}`);
  return r.out;
}

/** A namespace name unique to this process, so parallel test files never collide. */
export function nsName(tag: string): string {
  return `kh${process.pid % 100000}${tag}`;
}

/** Creates a network namespace with its loopback up. */
export function addNamespace(name: string): void {
  must(['ip', 'netns', 'add', name]);
  must(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
}

/** Deletes a network namespace if it exists (never throws: used in finally blocks). */
export function deleteNamespace(name: string): void {
  sh(['ip', 'netns', 'delete', name]);
}

/** A bind mount inside a private mount namespace: `source` appears at `target`. */
export interface Bind {
  source: string;
  target: string;
}

/** argv that runs `args` in namespace `ns` (or the current one when null) in a private mount namespace with binds. */
export function inNamespace(ns: string | null, binds: readonly Bind[], args: readonly string[]): string[] {
  const mounts = binds.map((_, i) => `mount --bind "$${2 * i + 1}" "$${2 * i + 2}" && `).join('');
  const shift = binds.length ? `shift ${2 * binds.length} && ` : '';
  const inner = ['unshare', '-m', 'sh', '-c', `${mounts}${shift}exec "$@"`, 'sh', ...binds.flatMap((b) => [b.source, b.target]), ...args];
  return ns ? ['ip', 'netns', 'exec', ns, ...inner] : inner;
}

/**
 * passwd and group files holding a keepalived_script user (the copy on this machine plus that user when missing),
 * to bind over /etc/passwd and /etc/group so keepalived finds its script_user without changing this machine.
 */
export function scriptUserOverlay(dir: string, user: string): Bind[] {
  const passwd = readFileSync('/etc/passwd', 'utf8');
  const group = readFileSync('/etc/group', 'utf8');
  const used = new Set(passwd.split('\n').map((l) => Number(l.split(':')[2])));
  let uid = 999;
  while (used.has(uid)) uid--;
  const hasUser = passwd.split('\n').some((l) => l.startsWith(`${user}:`));
  const hasGroup = group.split('\n').some((l) => l.startsWith(`${user}:`));
  writeFileSync(join(dir, 'passwd'), hasUser ? passwd : `${passwd.trimEnd()}\n${user}:x:${uid}:${uid}::/nonexistent:/usr/sbin/nologin\n`);
  writeFileSync(join(dir, 'group'), hasGroup ? group : `${group.trimEnd()}\n${user}:x:${uid}:\n`);
  return [
    { source: join(dir, 'passwd'), target: '/etc/passwd' },
    { source: join(dir, 'group'), target: '/etc/group' },
  ];
}

/** A running child process whose output goes to a log file. */
export interface Daemon {
  name: string;
  child: ChildProcess;
  log: string;
  exited: Promise<void>;
}

/** Starts argv in the background with stdout and stderr appended to `log`. */
export function startDaemon(name: string, argv: readonly string[], log: string): Daemon {
  const fd = openSync(log, 'a');
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', fd, fd] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { name, child, log, exited };
}

/** Sends a signal and waits (bounded) for the process to exit; SIGKILL when it does not. */
export async function stopDaemon(d: Daemon, signal: NodeJS.Signals = 'SIGTERM', waitMs = 5000): Promise<void> {
  if (d.child.exitCode !== null || d.child.signalCode !== null) return;
  d.child.kill(signal);
  const timedOut = await Promise.race([d.exited.then(() => false), sleep(waitMs).then(() => true)]);
  if (timedOut) {
    d.child.kill('SIGKILL');
    await Promise.race([d.exited, sleep(2000)]);
  }
}

/** Resolves after ms milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `ok` every stepMs until it holds; returns the elapsed milliseconds, or throws after timeoutMs. */
export async function waitUntil(what: string, ok: () => boolean, timeoutMs: number, stepMs = 100): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (ok()) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

/** A self-signed ECDSA certificate and key for fake API servers, made with openssl. */
export function selfSignedCert(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'fake-apiserver.crt');
  const key = join(dir, 'fake-apiserver.key');
  must([
    'openssl',
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=fake-kube-apiserver',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  return { cert, key };
}

/**
 * A fake kube-apiserver: HTTPS on ADDRESS:PORT answering /readyz and /healthz with 200 and logging each request;
 * after SIGUSR1 /readyz answers 500 (an API server that lost etcd) while /healthz still answers 200.
 */
const FAKE_APISERVER = `
const https = require('node:https');
const fs = require('node:fs');
const [address, port, cert, key] = process.argv.slice(1);
let ready = true;
process.on('SIGUSR1', () => { ready = false; });
const server = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (req, res) => {
  console.log(req.method + ' ' + req.url);
  const ok = req.url === '/healthz' || (req.url === '/readyz' && ready);
  res.writeHead(ok ? 200 : 500, { 'content-type': 'text/plain' });
  res.end(ok ? 'ok' : 'not ready');
});
server.listen(Number(port), address, () => console.log('listening ' + address + ':' + port));
`;

/** argv of a fake API server on address:port. */
export function fakeApiServerArgv(address: string, port: number, tls: { cert: string; key: string }): string[] {
  return [process.execPath, '-e', FAKE_APISERVER, address, String(port), tls.cert, tls.key];
}

/** How many requests for `path` a fake API server has logged. */
export function requestsLogged(log: string, path: string): number {
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l === `GET ${path}`).length;
}

/** Whether namespace ns has address on dev. */
export function hasAddress(ns: string, dev: string, address: string): boolean {
  return sh(['ip', '-n', ns, '-4', '-o', 'addr', 'show', 'dev', dev], 5000).out.includes(` inet ${address}/`);
}

/**
 * The keepalived folder exactly as a load balancer's run.sh installs it: writes the host's compiled bundle under dir,
 * runs its run.sh --root dir/root --only files in namespace ns (where it finds the VRRP interface as on a host) and
 * returns dir/root/etc/keepalived. Throws with run.sh's output when it fails.
 */
export function installedKeepalivedDir(ns: string, bundle: ReadonlyMap<string, { path: string; mode: number; bytes: Buffer }>, dir: string): string {
  const unpacked = join(dir, 'bundle');
  for (const f of bundle.values()) {
    mkdirSync(join(unpacked, f.path, '..'), { recursive: true });
    writeFileSync(join(unpacked, f.path), f.bytes, { mode: f.mode });
    chmodSync(join(unpacked, f.path), f.mode);
  }
  mkdirSync(join(dir, 'root'), { recursive: true });
  must(['ip', 'netns', 'exec', ns, 'bash', join(unpacked, 'run.sh'), '--root', join(dir, 'root'), '--only', 'files']);
  return join(dir, 'root', 'etc', 'keepalived');
}
