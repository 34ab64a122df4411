/**
 * Runs generated etcd members for real: each in its own network namespace (its own 127.0.0.1, plus its 127.0.1.x
 * address, routed to the others over a bridge) and its own mount namespace (the bundle's /etc/etcd/pki and a
 * scratch data dir mounted at the paths the unit names), started with the unit's ExecStart and User.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The command line and user a systemd unit starts, read from the unit text (continuations joined). */
export function execStartOf(unit: string): { argv: string[]; user: string | null } {
  const joined = unit.replace(/\\\n/g, ' ');
  const exec = joined.split('\n').find((l) => l.startsWith('ExecStart='));
  if (!exec) throw new Error('the unit has no ExecStart');
  const user =
    joined
      .split('\n')
      .find((l) => l.startsWith('User='))
      ?.slice('User='.length)
      .trim() ?? null;
  return { argv: exec.slice('ExecStart='.length).trim().split(/\s+/), user };
}

/** The value of `--name=value` in an argv; throws when absent. */
export function flagValue(argv: string[], name: string): string {
  const hit = argv.find((a) => a.startsWith(`--${name}=`));
  if (hit === undefined) throw new Error(`no --${name} flag`);
  return hit.slice(name.length + 3);
}

/** Runs a command, failing with its output. */
function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** A set of network namespaces joined by a bridge; each holds 127.0.0.1 and one more loopback address. */
export class LoopbackNet {
  readonly hub: string;
  private readonly spaces: string[] = [];

  constructor(readonly prefix: string) {
    this.hub = `${prefix}-hub`;
    sh('ip', ['netns', 'add', this.hub]);
    try {
      sh('ip', ['-n', this.hub, 'link', 'add', 'br0', 'type', 'bridge']);
      sh('ip', ['-n', this.hub, 'link', 'set', 'br0', 'up']);
    } catch (error) {
      this.destroy();
      throw error;
    }
  }

  /** Adds a namespace owning `address` (a 127.x.y.z) and returns its name. */
  add(address: string): string {
    const index = this.spaces.length;
    // veth peer names must be unique on the hub even after remove(): the index only grows.
    const ns = `${this.prefix}-${index}`;
    this.spaces.push(ns);
    sh('ip', ['netns', 'add', ns]);
    const ip = (...args: string[]) => sh('ip', ['-n', ns, ...args]);
    ip('link', 'set', 'lo', 'up');
    // Only 127.0.0.1 and the own address stay local; the rest of 127/8 is routed to the bridge.
    ip('addr', 'del', '127.0.0.1/8', 'dev', 'lo');
    ip('addr', 'add', '127.0.0.1/32', 'dev', 'lo');
    ip('addr', 'add', `${address}/32`, 'dev', 'lo');
    ip('link', 'add', 'v0', 'type', 'veth', 'peer', 'name', `p${index}`, 'netns', this.hub);
    sh('ip', ['-n', this.hub, 'link', 'set', `p${index}`, 'master', 'br0', 'up']);
    sh('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.conf.all.route_localnet=1', 'net.ipv4.conf.v0.route_localnet=1']);
    ip('link', 'set', 'v0', 'up');
    ip('route', 'add', '127.0.0.0/8', 'dev', 'v0', 'src', address);
    return ns;
  }

  /** Deletes one namespace (its processes must be gone), so its address can be added again. */
  remove(ns: string): void {
    spawnSync('ip', ['netns', 'del', ns]);
    this.spaces.splice(this.spaces.indexOf(ns), 1, `${ns}-gone`);
  }

  /** Deletes every namespace (their processes must be gone). */
  destroy(): void {
    for (const ns of [...this.spaces, this.hub]) spawnSync('ip', ['netns', 'del', ns]);
  }
}

/** Shell prelude for a private mount namespace: `mount_at SOURCE TARGET SCRATCH` binds SOURCE at TARGET; a missing TARGET is made on an overlay of its nearest existing parent, so the host's tree is never touched. */
const MOUNT_SCRIPT = `set -eu
mount --make-rprivate /
mount_at() {
  if [ ! -d "$2" ]; then
    parent=$(dirname "$2")
    while [ ! -d "$parent" ]; do parent=$(dirname "$parent"); done
    mkdir -p "$3/upper" "$3/work"
    mount -t overlay overlay -o "lowerdir=$parent,upperdir=$3/upper,workdir=$3/work" "$parent"
    mkdir -p "$2"
  fi
  mount --bind "$1" "$2"
}
`;

/** A mount in a private mount namespace: `source` bound at `target`, or with `source` null a writable overlay over `target` whose changes land in the scratch folder. */
export interface Mount {
  source: string | null;
  target: string;
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Runs a command (as root, or as `user`) in a network namespace and a private mount namespace holding `mounts`,
 * in order; `path` is put first on PATH. The host's tree is never changed: missing targets are made on overlays.
 */
export function runWithMounts(
  ns: string,
  mounts: Mount[],
  scratch: string,
  argv: string[],
  options: { user?: string; path?: string } = {},
): SpawnSyncReturns<string> {
  mkdirSync(scratch, { recursive: true });
  const lines = mounts.map((m, i) => {
    const ovl = join(scratch, `ovl-${i}`);
    return m.source === null
      ? `mkdir -p ${shq(`${ovl}/upper`)} ${shq(`${ovl}/work`)}\nmount -t overlay overlay -o ${shq(`lowerdir=${m.target},upperdir=${ovl}/upper,workdir=${ovl}/work`)} ${shq(m.target)}`
      : `mount_at ${shq(m.source)} ${shq(m.target)} ${shq(ovl)}`;
  });
  const env = options.path ? `export PATH=${shq(options.path)}:"$PATH"\n` : '';
  const run = options.user ? ['setpriv', `--reuid=${options.user}`, `--regid=${options.user}`, '--init-groups', ...argv] : argv;
  const script = `${MOUNT_SCRIPT}${lines.join('\n')}\n${env}exec "$@"\n`;
  return spawnSync('ip', ['netns', 'exec', ns, 'unshare', '-m', 'sh', '-c', script, 'sh', ...run], { encoding: 'utf8' });
}

/** One generated member to run: its bundle's unpacked folder and unit text. */
export interface MemberBundle {
  name: string;
  address: string;
  /** The unpacked `<host>/` folder of its tarball. */
  bundle: string;
}

/** A running member. */
export interface RunningMember extends MemberBundle {
  ns: string;
  child: ChildProcess;
  log: string;
  argv: string[];
}

function uidGid(user: string): { uid: number; gid: number } {
  return { uid: Number(sh('id', ['-u', user]).trim()), gid: Number(sh('id', ['-g', user]).trim()) };
}

/**
 * Starts a member exactly as its unit says: same binary, flags and user; the bundle's /etc/etcd/pki and its data dir
 * (fresh the first time) are mounted at the paths of the flags. Keys are chowned to the unit's user first, as run.sh does.
 */
export function startMember(
  net: LoopbackNet,
  member: MemberBundle,
  scratch: string,
  options: { before?: string; ns?: string; binary?: string } = {},
): RunningMember {
  const unit = readFileSync(join(member.bundle, 'rootfs/etc/systemd/system/etcd.service'), 'utf8');
  const { argv, user } = execStartOf(unit);
  // options.binary: another etcd program than the unit's (a member restarted on a new binary); options.ns: the
  // member's namespace of an earlier start, kept (its data dir is reused as it is).
  if (options.binary) argv[0] = options.binary;
  const pkiDir = flagValue(argv, 'trusted-ca-file').replace(/\/[^/]+$/, '');
  const dataDir = flagValue(argv, 'data-dir');
  const work = join(scratch, member.name);
  const data = join(work, 'data');
  mkdirSync(data, { recursive: true });
  chmodSync(data, 0o700);
  const pkiSource = join(member.bundle, 'rootfs', pkiDir);
  if (user) {
    const { uid, gid } = uidGid(user);
    chownSync(data, uid, gid);
    for (const key of ['key-file', 'peer-key-file']) chownSync(join(member.bundle, 'rootfs', flagValue(argv, key)), uid, gid);
  }
  const run = user ? ['setpriv', `--reuid=${user}`, `--regid=${user}`, '--init-groups', ...argv] : argv;
  // options.before: a command run first in the member's namespaces (as root), such as its generated member-add script.
  const before = options.before ? `${options.before}\n` : '';
  const script = `${MOUNT_SCRIPT}mount_at "$1" "$2" "$3/ovl-pki"\nmount_at "$4" "$5" "$3/ovl-data"\nshift 5\n${before}exec "$@"\n`;
  const ns = options.ns ?? net.add(member.address);
  const log = join(work, 'etcd.log');
  const out = openSync(log, 'w');
  const child = spawn('ip', ['netns', 'exec', ns, 'unshare', '-m', 'sh', '-c', script, 'sh', pkiSource, pkiDir, work, data, dataDir, ...run], {
    stdio: ['ignore', out, out],
  });
  return { ...member, ns, child, log, argv };
}

/** Stops members at once (scratch data only): SIGKILL, then waits for the processes to be gone. */
export async function killMembers(members: RunningMember[]): Promise<void> {
  await Promise.all(
    members.map(
      (m) =>
        new Promise<void>((resolve) => {
          if (m.child.exitCode !== null || m.child.signalCode !== null) return resolve();
          m.child.once('exit', () => resolve());
          m.child.kill('SIGKILL');
        }),
    ),
  );
}

/** TLS material of an etcd client. */
export interface ClientCert {
  ca: string;
  cert: string;
  key: string;
}

/** Runs etcdctl in a namespace against endpoints; returns status and output. */
export function etcdctl(ns: string, tls: ClientCert, endpoints: string[], args: string[]): { status: number; out: string } {
  const r = spawnSync(
    'ip',
    [
      'netns',
      'exec',
      ns,
      'etcdctl',
      `--endpoints=${endpoints.join(',')}`,
      `--cacert=${tls.ca}`,
      `--cert=${tls.cert}`,
      `--key=${tls.key}`,
      '--dial-timeout=2s',
      '--command-timeout=3s',
      ...args,
    ],
    { encoding: 'utf8' },
  );
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/** Polls until `probe` is true or `timeoutMs` passes; returns the milliseconds it took, or null on timeout. */
export async function waitUntil(probe: () => boolean, timeoutMs: number, everyMs = 100): Promise<number | null> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (probe()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return null;
}

/** The last lines of a member's log, for failure messages. */
export function tail(member: RunningMember, lines = 15): string {
  if (!existsSync(member.log)) return '';
  return readFileSync(member.log, 'utf8').trim().split('\n').slice(-lines).join('\n');
}
