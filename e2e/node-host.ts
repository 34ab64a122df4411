/**
 * What a booted host needs from this machine to run a real kubelet and containerd, as a real host has it, without
 * changing anything global of this machine that outlives the run. Each item and why (measured on this kind of machine,
 * ../shared/reference/real-cluster.md section 3):
 * - its own cgroup in every hierarchy (node-cgroups.ts), made writable inside by a small init that remounts the v1
 *   controllers read-write before it execs systemd, so the container's systemd runs kubelet's and containerd's slices
 *   (nspawn mounts them read-only, and a --bind over them is shadowed by nspawn's own mount);
 * - writable network sysctls only (SYSTEMD_NSPAWN_API_VFS_WRITABLE=network): ip_forward, bridge-nf, conntrack timeouts
 *   are per network namespace; the rest of /proc/sys stays read-only, and the kernel settings the kubelet, the bundle
 *   and Debian's own sysctl.d files write that are global (vm.overcommit_memory, kernel.panic, fs.inotify.*,
 *   kernel.pid_max, fs.protected_*) are files of the host bound over their /proc/sys entries, so the writes land
 *   there and this machine keeps its values;
 * - every capability (containerd and runc make namespaces, mounts and devices) and no seccomp filter of nspawn's
 *   (runc's session keyring calls are filtered otherwise);
 * - /dev/kmsg (the kubelet's OOM watcher refuses to start without it);
 * - real folders for /var/lib/containerd and /var/lib/kubelet: the host root is an overlay, and containerd's overlay
 *   snapshotter cannot mount an overlay on an overlay.
 * The inotify limits are per user and global: raised on this machine for the run (root's nine systemds, containerds
 * and kubelets share them), and nf_conntrack_max set to what kube-proxy computes (tuneMachine); both put back at
 * teardown.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Where the init lives in a host's root. */
export const NODE_INIT = '/usr/local/sbin/kubeha-e2e-init';

/** Kernel settings that are global (not per network namespace) that the kubelet or the bundles write, and the value a host is given. */
export const FAKED_SYSCTLS: readonly { key: string; value: string; why: string }[] = [
  { key: 'vm/overcommit_memory', value: '1', why: 'the kubelet sets it (setupKernelTunables)' },
  { key: 'vm/panic_on_oom', value: '0', why: 'the kubelet checks it' },
  { key: 'kernel/panic', value: '10', why: 'the kubelet sets it' },
  { key: 'kernel/panic_on_oops', value: '1', why: 'the kubelet sets it' },
  { key: 'kernel/keys/root_maxkeys', value: '1000000', why: 'the kubelet sets it' },
  { key: 'kernel/keys/root_maxbytes', value: '25000000', why: 'the kubelet sets it' },
  { key: 'fs/inotify/max_user_watches', value: '524288', why: "the bundle's 99-kubernetes.conf sets it" },
  { key: 'fs/inotify/max_user_instances', value: '8192', why: "the bundle's 99-kubernetes.conf sets it" },
  // run.sh applies every sysctl.d file (sysctl --system), as a host does at boot: Debian's own set these.
  { key: 'kernel/pid_max', value: '4194304', why: "systemd's /usr/lib/sysctl.d/50-pid-max.conf sets it" },
  { key: 'fs/protected_fifos', value: '1', why: "procps' /usr/lib/sysctl.d/99-protect-links.conf sets it" },
  { key: 'fs/protected_hardlinks', value: '1', why: "procps' /usr/lib/sysctl.d/99-protect-links.conf sets it" },
  { key: 'fs/protected_regular', value: '2', why: "procps' /usr/lib/sysctl.d/99-protect-links.conf sets it" },
  { key: 'fs/protected_symlinks', value: '1', why: "procps' /usr/lib/sysctl.d/99-protect-links.conf sets it" },
];

/** The host's PID 1: the v1 controllers read-write, the global sysctls as files of the host, then systemd. */
export function nodeInitScript(): string {
  const fakes = FAKED_SYSCTLS.map((s) => `fake ${s.key} ${s.value}`);
  return [
    '#!/bin/sh',
    '# kubeha e2e: makes this container a host the kubelet can run on (see e2e/node-host.ts), then execs systemd.',
    'set -e',
    'for c in /sys/fs/cgroup/*/; do mount -o remount,bind,rw "$c"; done',
    'mkdir -p /var/lib/kubeha-e2e-sysctl',
    'fake() { f=/var/lib/kubeha-e2e-sysctl/$(echo "$1" | tr / .); [ -f "$f" ] || echo "$2" >"$f"; mount --bind "$f" "/proc/sys/$1"; }',
    ...fakes,
    'exec /lib/systemd/systemd',
    '',
  ].join('\n');
}

/** CAP_SYS_RESOURCE, the capability that lowers a process's oom_score_adj. */
const CAP_SYS_RESOURCE = 24;

/**
 * A containerd drop-in (kubeha's config.toml imports /etc/containerd/conf.d/*.toml) for hosts of this machine, or null:
 * this machine's own capability bounding set may lack CAP_SYS_RESOURCE, and then nothing here, root or not, can give a
 * pod sandbox the oom_score_adj -998 the kubelet asks for: runc fails every sandbox ("failed to update
 * /proc/self/oom_score_adj: Permission denied"). containerd's restrict_oom_score_adj clamps it to containerd's own, as
 * rootless and LXC hosts do. A real host's root has the capability and needs no drop-in.
 */
export function nodeContainerdDropIn(): string | null {
  const bounding = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  if ((BigInt(`0x${bounding}`) >> BigInt(CAP_SYS_RESOURCE)) & 1n) return null;
  return [
    '# kubeha e2e: this machine lacks CAP_SYS_RESOURCE, so pods get oom_score_adj no lower than containerd (e2e/node-host.ts).',
    // The version of kubeha's config.toml for containerd 2.x, which the e2e hosts run (a drop-in of another version is
    // migrated on its own, and a version 3 table in a version 2 file is dropped: test/containerd-config.test.ts).
    'version = 3',
    '',
    '[plugins."io.containerd.cri.v1.runtime"]',
    'restrict_oom_score_adj = true',
    '',
  ].join('\n');
}

/** nspawn's environment for a Kubernetes host. */
export const NODE_NSPAWN_ENV = { SYSTEMD_NSPAWN_API_VFS_WRITABLE: 'network', SYSTEMD_SECCOMP: '0' } as const;

/** nspawn arguments of a Kubernetes host (besides the usual ones), given its real state folders. */
export function nodeNspawnArgs(stateDirs: { containerd: string; kubelet: string }): string[] {
  return ['--capability=all', '--bind-ro=/dev/kmsg', `--bind=${stateDirs.containerd}:/var/lib/containerd`, `--bind=${stateDirs.kubelet}:/var/lib/kubelet`];
}

/** inotify limits the run needs on this machine (nine hosts' systemd, containerd, kubelet and pods, all root): raised when lower. */
const INOTIFY = { 'fs/inotify/max_user_instances': 8192, 'fs/inotify/max_user_watches': 524288 } as const;

/**
 * kube-proxy's conntrack sizing (pkg/proxy/conntrack/sysctls.go, 1.36): nf_conntrack_max = max(maxPerCore x CPUs, min)
 * with the defaults 32768 and 131072, written whenever it differs. The hosts are network namespaces, where the key is
 * read-only (it is the machine's), so kube-proxy would exit; with the machine's value already what kube-proxy computes,
 * it writes nothing. Set for the run and put back at teardown.
 */
export function kubeProxyConntrackMax(cpus = availableParallelism()): number {
  return Math.max(32768 * cpus, 131072);
}

/** Sets this machine's sysctls the hosts need (inotify raised, conntrack as kube-proxy sizes it); returns each changed one with its old value. */
export function tuneMachine(): [string, string][] {
  const wants: [string, number, 'raise' | 'set'][] = [
    ...Object.entries(INOTIFY).map(([key, want]): [string, number, 'raise'] => [key, want, 'raise']),
    ['net/netfilter/nf_conntrack_max', kubeProxyConntrackMax(), 'set'],
  ];
  const old: [string, string][] = [];
  for (const [key, want, how] of wants) {
    const path = `/proc/sys/${key}`;
    const have = readFileSync(path, 'utf8').trim();
    if (how === 'raise' ? Number(have) < want : Number(have) !== want) {
      writeFileSync(path, String(want));
      old.push([path, have]);
    }
  }
  return old;
}

/** Puts sysctls back to the values tuneMachine returned (best effort: never throws). */
export function restoreSysctls(old: readonly [string, string][]): void {
  for (const [path, value] of old) {
    try {
      writeFileSync(path, value);
    } catch {
      // best effort at exit
    }
  }
}
