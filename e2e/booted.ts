/**
 * Booted hosts on one machine: one systemd-nspawn container per host (systemd as PID 1), each in its own network
 * namespace with the host's address on eth0, all joined by a bridge in a switch namespace. Reusable: boot N hosts,
 * run commands in them, copy files in, power one off, tear everything down (also on failure and Ctrl-C).
 * Recipe and pitfalls: ../shared/reference/booted-hosts.md (--register=no --keep-unit, CAP_NET_ADMIN, veth, nsenter).
 */
import { readFileSync, mkdirSync, copyFileSync, chmodSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { HostCgroups } from './node-cgroups.js';
import { NODE_INIT, NODE_NSPAWN_ENV, nodeInitScript, nodeNspawnArgs, restoreSysctls, tuneMachine } from './node-host.js';
import { runAsync, runOrThrow, runSync, startBackground, waitFor, type Ran } from './proc.js';

/** A host to boot: its name (the container's host name), IPv4 address and the name of its interface. */
export interface HostSpec {
  name: string;
  address: string;
  /** Interface name inside the container (default eth0): tests of ens*-style hosts set it. */
  iface?: string;
}

/** A read-only folder of this machine visible in every container. */
export interface SharedFolder {
  source: string;
  target: string;
}

/** What a testbed needs: the hosts, the image root to copy-on-write from, shared folders and a scratch folder. */
export interface TestbedOptions {
  hosts: readonly HostSpec[];
  image: string;
  shared?: readonly SharedFolder[];
  /** Prefix length of the hosts' common subnet (default 24). */
  prefix?: number;
  /** Scratch folder for the containers' writable layers and logs (removed at teardown). */
  workDir: string;
  /** A short tag unique to this run, used in namespace names (at most 6 characters). */
  tag: string;
  log?: (line: string) => void;
  bootTimeoutMs?: number;
  /** Hosts that run a real kubelet and containerd: own cgroups, writable controllers, real state folders (e2e/node-host.ts). */
  kubernetes?: boolean;
}

/** One booted host. */
export interface BootedHost extends Required<HostSpec> {
  /** Its network namespace (run host tools in it with `ip netns exec`). */
  netns: string;
  /** Its root folder on this machine (an overlay over the image). */
  root: string;
  /** The host-side pid of its PID 1, or 0 once it is down. */
  pid1: number;
  nspawn: ChildProcess | null;
  consoleLog: string;
  bootSeconds: number;
}

/** The environment commands get inside a container: what root's login shell would have. */
const CONTAINER_ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'LANG=C.UTF-8', 'TERM=dumb'];

/** Every testbed that is up, so a signal or an exit can tear them all down. */
const live = new Set<Testbed>();
let handlersInstalled = false;

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\n${signal}: tearing down the booted hosts\n`);
      for (const bed of live) bed.teardownSync();
      process.exit(130);
    });
  }
  process.on('exit', () => {
    for (const bed of live) bed.teardownSync();
  });
}

/** A set of booted hosts on one bridge. Create with Testbed.boot; always call teardown (it is idempotent). */
export class Testbed {
  readonly hosts = new Map<string, BootedHost>();
  private readonly switchNs: string;
  private readonly namespaces: string[] = [];
  private readonly mounts: string[] = [];
  private readonly children: ChildProcess[] = [];
  private readonly cgroups: HostCgroups | null;
  private raisedSysctls: [string, string][] = [];
  private tornDown = false;

  private constructor(private readonly options: TestbedOptions) {
    this.switchNs = `khe2e${options.tag}sw`;
    this.cgroups = options.kubernetes ? new HostCgroups(`kubeha-e2e-${options.tag}`) : null;
  }

  /** Boots every host at once and waits (bounded) until systemd reports each one running. */
  static async boot(options: TestbedOptions): Promise<Testbed> {
    if (!/^[a-z0-9]{1,6}$/.test(options.tag)) throw new Error(`testbed tag ${JSON.stringify(options.tag)}: 1-6 lower-case letters or digits`);
    installExitHandlers();
    const bed = new Testbed(options);
    live.add(bed);
    try {
      bed.makeNetwork();
      if (options.kubernetes) bed.raisedSysctls = tuneMachine();
      for (const spec of options.hosts) bed.startHost(spec);
      await Promise.all([...bed.hosts.values()].map((h) => bed.waitBooted(h)));
      return bed;
    } catch (error) {
      bed.teardownSync();
      throw error;
    }
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  /** The switch namespace with a bridge, and one namespace per host joined to it by a veth pair. */
  private makeNetwork(): void {
    const prefix = this.options.prefix ?? 24;
    this.addNamespace(this.switchNs);
    runOrThrow(['ip', '-n', this.switchNs, 'link', 'add', 'br0', 'type', 'bridge']);
    runOrThrow(['ip', '-n', this.switchNs, 'link', 'set', 'br0', 'up']);
    for (const [i, spec] of this.options.hosts.entries()) {
      const ns = `khe2e${this.options.tag}h${i}`;
      const iface = spec.iface ?? 'eth0';
      this.addNamespace(ns);
      runOrThrow(['ip', '-n', this.switchNs, 'link', 'add', `v${i}`, 'type', 'veth', 'peer', 'name', iface, 'netns', ns]);
      runOrThrow(['ip', '-n', this.switchNs, 'link', 'set', `v${i}`, 'master', 'br0', 'up']);
      runOrThrow(['ip', '-n', ns, 'addr', 'add', `${spec.address}/${prefix}`, 'dev', iface]);
      runOrThrow(['ip', '-n', ns, 'link', 'set', iface, 'up']);
    }
  }

  /** Every host's default route goes through `gateway` (a peer on the bridge): as on a real host, addresses that no route names (a Service's ClusterIP before kube-proxy's rules rewrite it) are routable. */
  routeVia(gateway: string): void {
    for (const host of this.hosts.values()) runOrThrow(['ip', '-n', host.netns, 'route', 'replace', 'default', 'via', gateway]);
  }

  /**
   * A network namespace of this machine on the hosts' bridge with its own address (no container): a site's mirror, an
   * operator's workstation. Removed at teardown. Returns its name.
   */
  addPeer(tag: string, address: string): string {
    if (!/^[a-z0-9]{1,4}$/.test(tag)) throw new Error(`peer tag ${JSON.stringify(tag)}: 1-4 lower-case letters or digits`);
    const ns = `khe2e${this.options.tag}${tag}`;
    const prefix = this.options.prefix ?? 24;
    this.addNamespace(ns);
    runOrThrow(['ip', '-n', this.switchNs, 'link', 'add', `p${tag}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    runOrThrow(['ip', '-n', this.switchNs, 'link', 'set', `p${tag}`, 'master', 'br0', 'up']);
    runOrThrow(['ip', '-n', ns, 'addr', 'add', `${address}/${prefix}`, 'dev', 'eth0']);
    runOrThrow(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    return ns;
  }

  /** Runs a command of this machine in a namespace (a peer's, a host's), bounded. */
  inNamespace(ns: string, argv: readonly string[], timeoutMs = 30_000): Ran {
    return runSync(['ip', 'netns', 'exec', ns, ...argv], timeoutMs);
  }

  /** Stops these background processes (each a process group's leader) with the testbed, and records them for e2e:down. */
  adopt(...children: ChildProcess[]): void {
    this.children.push(...children);
  }

  /** Starts a background process of this machine in a namespace; stopped at teardown. */
  backgroundIn(ns: string, argv: readonly string[], logFile: string): ChildProcess {
    const child = startBackground(['ip', 'netns', 'exec', ns, ...argv], logFile);
    this.children.push(child);
    return child;
  }

  private addNamespace(name: string): void {
    runSync(['ip', 'netns', 'delete', name]); // a leftover of a killed run
    runOrThrow(['ip', 'netns', 'add', name]);
    this.namespaces.push(name);
    runOrThrow(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
  }

  /** An overlay over the image as the host's root, then systemd-nspawn (--boot, or the node init) in the host's namespace. */
  private startHost(spec: HostSpec): void {
    const i = this.options.hosts.indexOf(spec);
    const dir = join(this.options.workDir, 'hosts', spec.name);
    const root = join(dir, 'root');
    for (const d of ['upper', 'work', 'root']) mkdirSync(join(dir, d), { recursive: true });
    runOrThrow(['mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${this.options.image},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`, root]);
    this.mounts.push(root);
    const host: BootedHost = {
      name: spec.name,
      address: spec.address,
      iface: spec.iface ?? 'eth0',
      netns: `khe2e${this.options.tag}h${i}`,
      root,
      pid1: 0,
      nspawn: null,
      consoleLog: join(dir, 'console.log'),
      bootSeconds: 0,
    };
    this.hosts.set(spec.name, host);
    this.launch(host);
  }

  /** Starts the host's container on its root (already mounted): its boot, or its power-on after a poweroff. */
  private launch(host: BootedHost): void {
    const dir = dirname(host.root);
    const binds = (this.options.shared ?? []).map((s) => `--bind-ro=${s.source}:${s.target}`);
    const common = [
      'systemd-nspawn',
      '--quiet',
      '-D',
      host.root,
      `--network-namespace-path=/run/netns/${host.netns}`,
      '--register=no',
      '--keep-unit',
      '-M',
      host.name,
    ];
    const argv = this.cgroups
      ? this.nodeLauncher(host.name, dir, [...common, '--console=read-only', ...nodeNspawnArgs(this.stateDirs(dir)), ...binds, NODE_INIT])
      : [...common, '--boot', '--capability=CAP_NET_ADMIN', '--console=read-only', ...binds];
    host.nspawn = startBackground(argv, host.consoleLog, this.cgroups ? { ...NODE_NSPAWN_ENV } : {});
    this.children.push(host.nspawn);
  }

  /** Powers a powered-off host on again (a reboot: same root, same state) and waits (bounded) until it has booted. */
  async powerOn(name: string): Promise<number> {
    const host = this.hosts.get(name);
    if (host === undefined || host.pid1 !== 0) throw new Error(`${name} is not a powered-off host`);
    this.launch(host);
    await this.waitBooted(host);
    return host.bootSeconds;
  }

  /** Real folders (not the overlay) for the host's containerd and kubelet state. */
  private stateDirs(dir: string): { containerd: string; kubelet: string } {
    const dirs = { containerd: join(dir, 'containerd'), kubelet: join(dir, 'kubelet') };
    for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
    return dirs;
  }

  /** A Kubernetes host's nspawn argv behind a launcher that first moves itself into the host's own cgroups; writes the init into its root. */
  private nodeLauncher(host: string, dir: string, nspawn: string[]): string[] {
    const init = join(dir, 'root', NODE_INIT);
    mkdirSync(dirname(init), { recursive: true });
    writeFileSync(init, nodeInitScript(), { mode: 0o755 });
    const procs = this.cgroups!.forHost(host);
    return ['sh', '-c', 'for f in "$@"; do [ "$f" = -- ] && break; echo $$ >"$f"; shift; done; shift; exec "$@"', 'launch', ...procs, '--', ...nspawn];
  }

  /** Finds the container's PID 1 (the nspawn child running systemd) and waits for `systemctl is-system-running`. */
  private async waitBooted(host: BootedHost): Promise<void> {
    const limit = this.options.bootTimeoutMs ?? 120_000;
    const started = performance.now();
    const nspawnPid = host.nspawn!.pid!;
    await waitFor(
      `${host.name}'s systemd to start (systemd-nspawn output: ${host.consoleLog})`,
      () => {
        if (host.nspawn!.exitCode !== null) throw new Error(`systemd-nspawn of ${host.name} exited (${host.nspawn!.exitCode}):\n${readTail(host.consoleLog)}`);
        host.pid1 = systemdChild(nspawnPid);
        return host.pid1 > 0;
      },
      limit,
    );
    let state = '';
    await waitFor(
      `${host.name} to finish booting (last state: ${JSON.stringify(state)})`,
      async () => {
        state = (await this.exec(host.name, ['systemctl', 'is-system-running'], 10_000)).stdout.trim();
        return state === 'running' || state === 'degraded';
      },
      limit - (performance.now() - started),
      500,
    );
    if (state === 'degraded') {
      const failed = (await this.exec(host.name, ['systemctl', '--failed', '--no-legend', '--plain'], 10_000)).stdout.trim();
      this.log(`${host.name}: booted degraded; failed units: ${failed.replace(/\n/g, '; ')}`);
    }
    host.bootSeconds = (performance.now() - started) / 1000;
  }

  /** The booted host of this name; throws for an unknown or powered-off one. */
  host(name: string): BootedHost {
    const host = this.hosts.get(name);
    if (!host) throw new Error(`no booted host ${name} (hosts: ${[...this.hosts.keys()].join(', ')})`);
    if (host.pid1 === 0) throw new Error(`${name} is powered off`);
    return host;
  }

  /** argv that runs a command inside a host (all its namespaces, its root, a clean root environment). */
  execArgv(name: string, argv: readonly string[]): string[] {
    return ['nsenter', '-t', String(this.host(name).pid1), '-a', '-r', '-w', 'env', '-i', ...CONTAINER_ENV, ...argv];
  }

  /** Runs a command inside a host, bounded by timeoutMs; onSpawn gets the child (to kill it mid-way). */
  exec(name: string, argv: readonly string[], timeoutMs = 60_000, onSpawn?: (child: ChildProcess) => void): Promise<Ran> {
    return runAsync(this.execArgv(name, argv), timeoutMs, onSpawn);
  }

  /** Runs a command of THIS machine in a host's network namespace only (a client or stand-in server "on" that host). */
  netExec(name: string, argv: readonly string[], timeoutMs = 30_000): Ran {
    return runSync(['ip', 'netns', 'exec', this.hosts.get(name)!.netns, ...argv], timeoutMs);
  }

  /** Starts a background process of this machine in a host's network namespace; stopped at teardown. */
  netBackground(name: string, argv: readonly string[], logFile: string): ChildProcess {
    const child = startBackground(['ip', 'netns', 'exec', this.hosts.get(name)!.netns, ...argv], logFile);
    this.children.push(child);
    return child;
  }

  /** The path on this machine of a file inside a running host (through its PID 1's root: sees its mounts). */
  pathIn(name: string, path: string): string {
    return `/proc/${this.host(name).pid1}/root${path}`;
  }

  /** Copies a file of this machine into a running host (owner root, given mode). */
  copyIn(name: string, source: string, target: string, mode = 0o644): void {
    const dest = this.pathIn(name, target);
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(source, dest);
    chmodSync(dest, mode);
  }

  /** `systemctl poweroff` inside a host, then waits (bounded) until its container has exited. */
  async poweroff(name: string, timeoutMs = 60_000): Promise<number> {
    const host = this.host(name);
    await this.exec(name, ['systemctl', 'poweroff'], 10_000);
    const seconds = await waitFor(`${name} to power off`, () => host.nspawn!.exitCode !== null || host.nspawn!.signalCode !== null, timeoutMs);
    host.pid1 = 0;
    return seconds;
  }

  /** Stops every container, background process, mount and namespace, and removes the scratch folder. */
  async teardown(): Promise<void> {
    this.teardownSync();
  }

  /** Synchronous teardown (usable from signal and exit handlers); never throws, safe to call twice. */
  teardownSync(): void {
    if (this.tornDown) return;
    this.tornDown = true;
    live.delete(this);
    Testbed.down(this.record());
  }

  /** What a teardown needs, as data: a kept testbed writes it down so `npm run e2e:down` can remove it later. */
  record(): TestbedRecord {
    return {
      tag: this.options.tag,
      workDir: this.options.workDir,
      nspawnPids: [...this.hosts.values()].map((h) => h.nspawn?.pid ?? 0).filter((pid) => pid > 0),
      pid1s: [...this.hosts.values()].map((h) => h.pid1).filter((pid) => pid > 0),
      childPids: this.children.map((c) => c.pid ?? 0).filter((pid) => pid > 0),
      mounts: [...this.mounts],
      namespaces: [...this.namespaces],
      cgroupFolder: this.cgroups?.folder ?? null,
      sysctls: this.raisedSysctls,
    };
  }

  /** Leaves the testbed running past this process (no teardown at exit); returns its record. */
  keep(): TestbedRecord {
    this.tornDown = true;
    live.delete(this);
    return this.record();
  }

  /**
   * Stops the containers (SIGTERM, then SIGKILL after 20 s), their background processes, mounts and namespaces,
   * removes the hosts' cgroups (killing what is left in them) and the scratch folder, and puts raised sysctls back.
   * Never throws: usable from exit handlers and for a kept testbed's record.
   */
  static down(record: TestbedRecord): void {
    for (const pid of record.nspawnPids) signal(pid, 'SIGTERM');
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && record.nspawnPids.some(alive)) sleepSync(200);
    for (const pid of record.childPids) signal(-pid, 'SIGKILL');
    for (const pid of [...record.nspawnPids, ...record.pid1s]) if (alive(pid)) signal(pid, 'SIGKILL');
    for (const mount of [...record.mounts].reverse()) {
      if (runSync(['umount', mount], 20_000).status !== 0) runSync(['umount', '-l', mount], 20_000);
    }
    // Mounts the hosts made under their bound state folders may have propagated here: lazily unmount what is left.
    for (const mount of mountsUnder(record.workDir)) runSync(['umount', '-l', mount], 20_000);
    for (const ns of [...record.namespaces].reverse()) runSync(['ip', 'netns', 'delete', ns]);
    if (record.cgroupFolder) removeCgroups(new HostCgroups(record.cgroupFolder));
    restoreSysctls(record.sysctls);
    rmSync(record.workDir, { recursive: true, force: true });
  }
}

/** A testbed as data (Testbed.record): what Testbed.down removes. */
export interface TestbedRecord {
  tag: string;
  workDir: string;
  nspawnPids: number[];
  pid1s: number[];
  /** Background processes, each the leader of its own process group. */
  childPids: number[];
  mounts: string[];
  namespaces: string[];
  cgroupFolder: string | null;
  /** Sysctls of this machine raised for the run, with the values to put back. */
  sysctls: [string, string][];
}

/** Kills whatever is left in the hosts' cgroups (a container's orphans), then removes them all. */
function removeCgroups(cgroups: HostCgroups): void {
  for (let round = 0; round < 50 && cgroups.pids().length > 0; round++) {
    for (const pid of cgroups.pids()) signal(pid, 'SIGKILL');
    sleepSync(100);
  }
  const left = cgroups.removeAll();
  if (left.length > 0) process.stderr.write(`warning: could not remove cgroups ${left.join(', ')}\n`);
}

/** Mount points of this machine under a folder, deepest first (from /proc/self/mountinfo; octal escapes decoded). */
function mountsUnder(dir: string): string[] {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => (line.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))))
    .filter((p) => p.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** The pid of the systemd child of an nspawn process, or 0. */
function systemdChild(nspawnPid: number): number {
  for (const pid of descendants(nspawnPid)) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'systemd') return pid;
    } catch {
      // gone meanwhile
    }
  }
  return 0;
}

function descendants(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      for (const child of children) out.push(child, ...descendants(child));
    }
  } catch {
    // the process ended
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    return existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

/** Sends a signal to a process (a negative pid: its group); never throws. */
function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function readTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-20).join('\n');
  } catch {
    return '(no output)';
  }
}
