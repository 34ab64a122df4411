/**
 * Runs a bundle's run.sh for real without touching this machine: in new mount and network namespaces, /etc, /var,
 * /usr/lib and /usr/local are overlays over temp folders, the host's address is on lo, and PATH stubs stand in for kubeadm, kubelet, kubectl,
 * apt, systemctl and curl. The stubs log every call and answer version queries from the given state. The kernel is a
 * current distribution's, whatever this machine's is: cgroup v2 at /sys/fs/cgroup and IPVS among the modules of
 * /lib/modules (a test of another kind of host mounts its own over them in `before`).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, tempDir } from './helpers.js';

/** What the stubs report: installed versions, the API servers' and etcd's versions, node state files. */
export interface NodeState {
  kubelet?: string;
  kubeadm?: string;
  api?: string;
  etcd?: string;
  cordoned?: boolean;
  taints?: string;
  /** containerd --version reports this version (none: not installed). */
  containerd?: string;
  /** The cluster does not list this node (kubectl get node fails). */
  nodeMissing?: boolean;
  /** Files to create before the run (absolute paths under /etc or /var), e.g. kubelet.conf of a joined node. */
  files?: Record<string, string>;
  /** Bundle files already installed (copied from rootfs/ before the run), so a run may skip the files phase. */
  installed?: string[];
  /** Stubs to leave out (the command is then missing, unless this machine has it). */
  absent?: string[];
  /** Files whose content after the run is returned. */
  readBack?: string[];
  /** Folder holding the /etc and /var overlays' upper layers: kept across runs when given (a second run sees the first's changes). */
  upper?: string;
  /** Shell lines run in the sandbox before run.sh (background jobs are killed when the sandbox ends). */
  before?: string[];
  /** kubectl wait fails, as on a timeout. */
  waitFails?: boolean;
  /** What the node's `kubeletVersion Ready-status` query prints (an upgrade's readiness check), e.g. `v1.34.2 True`. */
  nodeReady?: string;
  /** Pods bound to the node as `kubectl get pods --field-selector spec.nodeName=... -o custom-columns` lists them (first query only: evicted after). */
  nodePods?: string[];
  /** What `timedatectl show -p NTP -p NTPSynchronized` prints (default: a synchronised clock), e.g. `NTP=no\nNTPSynchronized=no\n`. */
  clock?: string;
  /** systemd-detect-virt names this container (default: none, a machine of its own). */
  container?: string;
  /** Environment variables for run.sh. */
  env?: Record<string, string>;
  /**
   * dpkg --configure -a fails `times` times with `exit` (2: its lock held by another process), then finishes and
   * empties /var/lib/dpkg/updates; every other dpkg call reaches the real dpkg.
   */
  dpkgConfigure?: { times: number; exit: number };
}

const STUBBED = [
  'kubeadm',
  'kubelet',
  'kubectl',
  'apt-get',
  'apt-mark',
  'systemctl',
  'curl',
  'gpg',
  'crictl',
  'firewall-cmd',
  'ufw',
  'setsebool',
  'hostnamectl',
  'modprobe',
  'swapon',
  'swapoff',
  'sysctl',
  'containerd',
  'iptables',
  'timedatectl',
  'systemd-detect-virt',
];

const STUB = String.raw`#!/bin/bash
name=$(basename "$0")
printf '%s %s\n' "$name" "$*" >>"$STUB_LOG"
case "$name $*" in
  'kubelet --version') [[ -n $STUB_KUBELET ]] || exit 127; echo "Kubernetes v$STUB_KUBELET" ;;
  'kubeadm version -o short') [[ -n $STUB_KUBEADM ]] || exit 127; echo "v$STUB_KUBEADM" ;;
  'ufw status'*) echo 'Status: active' ;;
  'timedatectl show'*) if [[ -n $STUB_CLOCK ]]; then printf '%b' "$STUB_CLOCK"; else printf 'NTP=yes\nNTPSynchronized=yes\n'; fi ;;
  'systemd-detect-virt'*) [[ -n $STUB_CONTAINER ]] || { echo none; exit 1; }; echo "$STUB_CONTAINER" ;;
  'containerd --version') [[ -n $STUB_CONTAINERD ]] || exit 127; echo "containerd github.com/containerd/containerd v$STUB_CONTAINERD 0123abcd" ;;
  'firewall-cmd '*--query-*) exit 1 ;;
  'kubeadm token list'*) grep -m 1 -oE '[a-z0-9]{6}\.' /etc/kubernetes/kubeadm-config.yaml ;;
  curl*:2379/version*) printf '{"etcdserver":"%s","etcdcluster":"3.5.0"}\n' "$STUB_ETCD" ;;
  curl*:2379/health*) echo '{"health":"true"}' ;;
  curl*/version*) printf '{\n  "major": "1",\n  "gitVersion": "v%s"\n}\n' "$STUB_API" ;;
  curl*:6443/readyz*) printf ok ;;
  *'jsonpath={.spec.unschedulable}'*) echo "$STUB_CORDONED" ;;
  *'.status.nodeInfo.kubeletVersion'*) printf '%s' "$STUB_NODE_READY" ;;
  *' get pods '*'--field-selector spec.nodeName='*) [[ -e $STUB_LOG.pods ]] || { touch "$STUB_LOG.pods"; printf '%s' "$STUB_NODE_PODS"; } ;;
  *'.spec.taints'*) echo "$STUB_TAINTS" ;;
  'kubectl '*' get node '*) [[ -z $STUB_NO_NODE ]] || exit 1 ;;
  'kubectl '*' wait '*) [[ -z $STUB_WAIT_FAILS ]] || { echo 'error: timed out waiting for the condition' >&2; exit 1; } ;;
esac
exit 0
`;

/** The dpkg stand-in of NodeState.dpkgConfigure. */
const DPKG_STUB = String.raw`#!/bin/bash
if [[ $* != '--configure -a' ]]; then exec /usr/bin/dpkg "$@"; fi
printf 'dpkg %s\n' "$*" >>"$STUB_LOG"
failed=$(cat "$STUB_LOG.dpkg" 2>/dev/null || echo 0)
if ((failed < STUB_DPKG_TIMES)); then
  echo $((failed + 1)) >"$STUB_LOG.dpkg"
  echo 'dpkg: error: dpkg frontend lock was locked by another process with pid 99' >&2
  exit "$STUB_DPKG_EXIT"
fi
rm -f /var/lib/dpkg/updates/*
`;

/** A current distribution's host: cgroup v2, and IPVS as loadable modules (modules.dep lists them; /lib is an overlay here). */
const TYPICAL_KERNEL = [
  'mount -t cgroup2 none /sys/fs/cgroup',
  'mkdir -p "/lib/modules/$(uname -r)"',
  `printf '%s\\n' ${['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh'].map((m) => `'kernel/net/netfilter/ipvs/${m}.ko.xz:'`).join(' ')} >"/lib/modules/$(uname -r)/modules.dep"`,
];

/** The script run inside the namespaces: overlays on /etc and /var, the address, the state's files, then run.sh. */
function sandboxScript(bundle: string, address: string, dir: string, state: NodeState, timeoutSeconds: number): string {
  const setup = Object.entries(state.files ?? {}).map(
    ([path, content]) => `mkdir -p "$(dirname '${path}')" && printf '%s' '${content.replace(/'/g, `'\\''`)}' >'${path}'`,
  );
  const layers = state.upper ?? dir;
  return [
    'set -e',
    "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT",
    'mount --make-rprivate /',
    `mount -t overlay overlay -o lowerdir=/etc,upperdir=${layers}/eu,workdir=${layers}/ew /etc`,
    `mount -t overlay overlay -o lowerdir=/var,upperdir=${layers}/vu,workdir=${layers}/vw /var`,
    // /lib is /usr/lib on Debian 12: its overlay takes the sandbox kernel's modules folder.
    `mount -t overlay overlay -o lowerdir=/usr/lib,upperdir=${layers}/lu,workdir=${layers}/lw /usr/lib`,
    // run.sh installs scripts in /usr/local (lib/kubeha, sbin): they land in the sandbox too, never on this machine.
    `mount -t overlay overlay -o lowerdir=/usr/local,upperdir=${layers}/ou,workdir=${layers}/ow /usr/local`,
    'ip link set lo up',
    `ip addr add ${address}/32 dev lo`,
    ...TYPICAL_KERNEL,
    ...setup,
    ...(state.installed ?? []).map((p) => `install -D -m 0600 '${bundle}/rootfs${p}' '${p}'`),
    ...(state.before ?? []),
    'set +e',
    `timeout ${timeoutSeconds} bash '${bundle}/run.sh' "$@"`,
    'status=$?',
    ...(state.readBack ?? []).map((p, i) => `cp '${p}' '${dir}/back${i}' 2>/dev/null || true`),
    'exit $status',
  ].join('\n');
}

/** Writes the stubs the state asks for into DIR/bin; returns that folder (first on the run's PATH). */
function writeStubs(dir: string, state: NodeState): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const stubs: [string, string][] = STUBBED.filter((n) => !state.absent?.includes(n)).map((n) => [n, STUB]);
  if (state.dpkgConfigure) stubs.push(['dpkg', DPKG_STUB]);
  for (const [name, text] of stubs) {
    writeFileSync(join(bin, name), text);
    chmodSync(join(bin, name), 0o755);
  }
  return bin;
}

/** The environment of a sandbox run: the stubs first on PATH, their log, and what they answer. */
function stubEnv(dir: string, bin: string, state: NodeState): NodeJS.ProcessEnv & { STUB_LOG: string } {
  return {
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
    STUB_LOG: join(dir, 'calls.log'),
    STUB_KUBELET: state.kubelet ?? '',
    STUB_KUBEADM: state.kubeadm ?? '',
    STUB_API: state.api ?? '',
    STUB_ETCD: state.etcd ?? '',
    STUB_CORDONED: state.cordoned ? 'true' : '',
    STUB_TAINTS: state.taints ?? '',
    STUB_NO_NODE: state.nodeMissing ? '1' : '',
    STUB_CONTAINERD: state.containerd ?? '',
    STUB_CLOCK: state.clock ?? '',
    STUB_CONTAINER: state.container ?? '',
    STUB_WAIT_FAILS: state.waitFails ? '1' : '',
    STUB_NODE_READY: state.nodeReady ?? '',
    STUB_NODE_PODS: (state.nodePods ?? []).map((p) => `${p}\n`).join(''),
    ...state.env,
    STUB_DPKG_TIMES: String(state.dpkgConfigure?.times ?? 0),
    STUB_DPKG_EXIT: String(state.dpkgConfigure?.exit ?? 0),
  };
}

/** Runs run.sh of a bundle folder with args inside the sandbox; returns exit status, output and the stubs' calls. */
export function runInSandbox(bundle: string, address: string, args: string[], state: NodeState, timeoutSeconds = 60) {
  const dir = tempDir('kubeha-sandbox-');
  try {
    const bin = writeStubs(dir, state);
    for (const d of ['eu', 'ew', 'vu', 'vw', 'lu', 'lw', 'ou', 'ow']) mkdirSync(join(state.upper ?? dir, d), { recursive: true });
    const script = sandboxScript(bundle, address, dir, state, timeoutSeconds);
    const env = stubEnv(dir, bin, state);
    writeFileSync(env.STUB_LOG, '');
    const r = spawnSync('unshare', ['-m', '-n', 'bash', '-c', script, 'sandbox', ...args], { encoding: 'utf8', env, timeout: (timeoutSeconds + 30) * 1000 });
    const calls = readFileSync(env.STUB_LOG, 'utf8').split('\n').filter(Boolean);
    const back = (state.readBack ?? []).map((_, i) => {
      try {
        return readFileSync(join(dir, `back${i}`), 'utf8');
      } catch {
        return null;
      }
    });
    return { code: r.status, out: r.stdout, err: r.stderr, calls, back };
  } finally {
    cleanup(dir);
  }
}

/** The calls that change something (version queries, reads and waits left out), in order. */
export function changes(calls: readonly string[]): string[] {
  return calls.filter(
    (c) =>
      !/^(kubelet --version|kubeadm version|kubeadm token list|curl |kubectl .* get |apt-mark showhold|systemctl is-|timedatectl show|systemd-detect-virt)/.test(
        c,
      ),
  );
}
