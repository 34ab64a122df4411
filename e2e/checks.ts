/**
 * What the e2e run proves on the booted hosts, each a check that can fail: etcd health with mutual TLS from a
 * control plane, the load balancers' daemons and VIP, a client through VIP:port, and stand-in API servers.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { Testbed } from './booted.js';
import { runOrThrow, waitFor } from './proc.js';
import { fakeApiServerArgv } from '../test/netns.js';

/** The control plane's etcd client files as run.sh installs them (design.md's target paths). */
const ETCD_CLIENT = {
  ca: '/etc/kubernetes/pki/etcd/ca.crt',
  cert: '/etc/kubernetes/pki/apiserver-etcd-client.crt',
  key: '/etc/kubernetes/pki/apiserver-etcd-client.key',
} as const;

/** etcdctl (this machine's) in a control plane's network namespace, with the files run.sh installed on that host. */
function etcdctl(bed: Testbed, fromHost: string, endpoints: string[], args: string[], withClientCert = true) {
  const tls = [`--cacert=${bed.pathIn(fromHost, ETCD_CLIENT.ca)}`];
  if (withClientCert) tls.push(`--cert=${bed.pathIn(fromHost, ETCD_CLIENT.cert)}`, `--key=${bed.pathIn(fromHost, ETCD_CLIENT.key)}`);
  return bed.netExec(fromHost, ['etcdctl', `--endpoints=${endpoints.join(',')}`, ...tls, '--dial-timeout=3s', '--command-timeout=5s', ...args], 30_000);
}

/**
 * Every member healthy from a control plane with its client certificate, all of them listed as started members,
 * and refused without a client certificate (mutual TLS). Returns the seconds until healthy.
 */
export async function checkEtcd(bed: Testbed, fromHost: string, endpoints: string[], timeoutMs: number): Promise<number> {
  let last = '';
  const seconds = await waitFor(
    `every etcd member to be healthy from ${fromHost} (last answer: ${last})`,
    () => {
      const r = etcdctl(bed, fromHost, endpoints, ['endpoint', 'health']);
      last = (r.stdout + r.stderr).trim().replace(/\n/g, '; ');
      return r.status === 0 && (r.stdout + r.stderr).split('\n').filter((l) => l.includes('is healthy')).length === endpoints.length;
    },
    timeoutMs,
    500,
  );
  const members = etcdctl(bed, fromHost, endpoints.slice(0, 1), ['member', 'list']);
  const started = members.stdout.split('\n').filter((l) => l.includes(', started, ')).length;
  if (members.status !== 0 || started !== endpoints.length)
    throw new Error(`etcd member list from ${fromHost}: ${started} started members, want ${endpoints.length}:\n${members.stdout}${members.stderr}`);
  const anonymous = etcdctl(bed, fromHost, endpoints.slice(0, 1), ['endpoint', 'health'], false);
  if (anonymous.status === 0) throw new Error(`etcd answered ${fromHost} without a client certificate: client-cert-auth is off`);
  return seconds;
}

/** A certificate for the stand-in API servers, issued by the cluster CA, naming every control plane and the VIP. */
export function standInCert(dir: string, secrets: string, ips: string[]): { cert: string; key: string } {
  const key = join(dir, 'standin.key');
  const csr = join(dir, 'standin.csr');
  const cert = join(dir, 'standin.crt');
  const ext = join(dir, 'standin.ext');
  writeFileSync(ext, `subjectAltName=${ips.map((ip) => `IP:${ip}`).join(',')}\nextendedKeyUsage=serverAuth\n`);
  const request = '-new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=kube-apiserver-standin'.split(' ');
  runOrThrow(['openssl', 'req', ...request, '-keyout', key, '-out', csr]);
  const ca = ['-CA', join(secrets, 'ca.crt'), '-CAkey', join(secrets, 'ca.key'), '-CAcreateserial'];
  runOrThrow(['openssl', 'x509', '-req', '-in', csr, ...ca, '-days', '1', '-extfile', ext, '-out', cert]);
  return { cert, key };
}

/** Starts a stand-in API server (HTTPS, 200 on /readyz and /healthz) on HOST:6443 in the host's network namespace. */
export function startStandIn(bed: Testbed, host: string, tls: { cert: string; key: string }, logDir: string): void {
  bed.netBackground(host, fakeApiServerArgv(bed.hosts.get(host)!.address, 6443, tls), join(logDir, `standin-${host}.log`));
}

/** The load balancers holding the VIP now. */
export function vipHolders(bed: Testbed, lbs: string[], vip: string): string[] {
  return lbs.filter((lb) => {
    const h = bed.hosts.get(lb)!;
    return bed.netExec(lb, ['ip', '-4', '-o', 'addr', 'show'], 5000).stdout.includes(` inet ${vip}/`) && h.pid1 !== 0;
  });
}

/** Waits until exactly one of the load balancers holds the VIP; returns it and the seconds it took. */
export async function waitOneHolder(bed: Testbed, lbs: string[], vip: string, timeoutMs: number): Promise<{ holder: string; seconds: number }> {
  let holders: string[] = [];
  const seconds = await waitFor(
    `exactly one of ${lbs.join(', ')} to hold the VIP ${vip} (holders now: ${holders.join(', ') || 'none'})`,
    () => {
      holders = vipHolders(bed, lbs, vip);
      return holders.length === 1;
    },
    timeoutMs,
    100,
  );
  return { holder: holders[0]!, seconds };
}

/** An HTTPS GET from a host's network namespace, verifying the server against the cluster CA; returns the status code. */
export function httpsStatus(bed: Testbed, fromHost: string, url: string, caFile: string): string {
  const r = bed.netExec(fromHost, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '3', '--cacert', caFile, url], 10_000);
  return r.stdout.trim() || `curl exit ${r.status}`;
}

/** Polls a client GET until it answers 200; returns the seconds it took. */
export async function waitClient200(bed: Testbed, fromHost: string, url: string, caFile: string, timeoutMs: number): Promise<number> {
  let last = '';
  return waitFor(
    `a 200 from ${url} seen from ${fromHost} (last: ${last})`,
    () => {
      last = httpsStatus(bed, fromHost, url, caFile);
      return last === '200';
    },
    timeoutMs,
    100,
  );
}

/** Unit state inside a host: ActiveState, MainPID and when it last entered active (to tell a restart). */
export async function unitState(bed: Testbed, host: string, unit: string): Promise<string> {
  const r = await bed.exec(
    host,
    ['systemctl', 'show', unit, '-p', 'ActiveState,MainPID,ActiveEnterTimestampMonotonic,ExecMainStartTimestampMonotonic'],
    10_000,
  );
  return r.stdout.trim().split('\n').sort().join(' ');
}

/** Whether a TCP port is listening inside a host (ss from iproute2, which the image has). */
export async function listening(bed: Testbed, host: string, port: number): Promise<boolean> {
  const r = await bed.exec(host, ['ss', '-Hltn', `sport = :${port}`], 10_000);
  return r.status === 0 && r.stdout.trim() !== '';
}
