/**
 * What preflight finds out about a host before anything changes, run for real in the namespace sandbox: the OS family
 * from /etc/os-release, including the Chinese enterprise distributions (each os-release below is quoted from a
 * published one: the source is named beside it), Docker's CentOS 8 repository where their $releasever has none, the
 * packages that cannot stay beside containerd.io on RHEL-like hosts, and whether a time service keeps the clock.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canMakeNamespaces, cleanup, generateAndUnpack, NAMESPACES, tempDir, testNeeding, type InventoryDoc } from './helpers.js';
import { changes, runInSandbox, type NodeState } from './sandbox.js';

const ETCD = '127.0.6.1';
const NODE = '127.0.6.2';
const inventory: InventoryDoc = {
  cluster: { name: 'os', kubernetesVersion: '1.34.2', podSubnet: '10.244.0.0/16', kubeProxyMode: 'nftables' },
  hosts: [
    { name: 'e1', address: ETCD, roles: ['etcd'] },
    { name: 'cp1', address: NODE, roles: ['control-plane', 'worker'] },
  ],
};

/** os-release files as published. */
const OS_RELEASE = {
  debian12: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n',
  rocky9: 'NAME="Rocky Linux"\nVERSION="9.4 (Blue Onyx)"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\nPLATFORM_ID="platform:el9"\n',
  // openEuler 22.03 LTS SP1 (kubespray's roles/bootstrap_os/tasks/openEuler.yml is chosen by this ID).
  openEuler: 'NAME="openEuler"\nVERSION="22.03 (LTS-SP1)"\nID="openEuler"\nVERSION_ID="22.03"\nPRETTY_NAME="openEuler 22.03 (LTS-SP1)"\nANSI_COLOR="0;31"\n',
  // Kylin Linux Advanced Server V10 (KubeSphere's ARM install guide quotes it): rpm, no ID_LIKE.
  kylinServer:
    'NAME="Kylin Linux Advanced Server"\nVERSION="V10 (Halberd)"\nID="kylin"\nVERSION_ID="V10"\nPRETTY_NAME="Kylin Linux Advanced Server V10 (Halberd)"\nANSI_COLOR="0;31"\n',
  // Kylin V10 SP1 desktop (distrotwin/kylin's README): Ubuntu 20.04 lineage, ID_LIKE=debian.
  kylinDebian: 'NAME="Kylin"\nVERSION_US="Kylin Linux Desktop V10 (SP1)"\nID=kylin\nID_LIKE=debian\nPRETTY_NAME="Kylin V10 SP1"\nVERSION_ID="v10"\n',
  // Kylin V11 desktop (the same README): apt, but no ID_LIKE.
  kylinV11: 'NAME="Kylin"\nFULL_NAME="kylin"\nID=kylin\nPRETTY_NAME="Kylin V11"\nVERSION_ID="v11"\nKYLIN_RELEASE_ID="V11"\n',
  // UOS Server 20 1070a (Anolis/CentOS 8 lineage) as Oracle install guides for it quote it.
  uosServer:
    'PRETTY_NAME="UOS Server 20"\nNAME="UOS Server 20"\nVERSION_ID="20"\nVERSION="20"\nID=uos\nHOME_URL="https://www.chinauos.com/"\nVERSION_CODENAME=kongzi\nPLATFORM_ID="platform:uelc20"\n',
  // UnionTech OS Desktop 20 Pro (deepin lineage, apt): no ID_LIKE, no PLATFORM_ID.
  uosDesktop: 'PRETTY_NAME="UnionTech OS Desktop 20 Pro"\nNAME="uos"\nVERSION_ID="20"\nVERSION="20"\nID=uos\nVERSION_CODENAME=eagle\n',
} as const;

/** Stubs of rpm and dnf for RHEL-like hosts: STUB_RPMS lists the installed packages, kubelet and kubeadm at 1.34.2. */
const RPM_STUBS = [
  // A RHEL-like host has its repository folder.
  'mkdir -p /var/tmp/rpm-stubs /etc/yum.repos.d',
  `printf '%s\\n' '#!/bin/bash' 'printf "%s %s\\n" "$(basename "$0")" "$*" >>"$STUB_LOG"' 'if [[ $* == *--qf* ]]; then echo 1.34.2; exit 0; fi' '[[ " $STUB_RPMS " == *" \${@: -1} "* ]]' >/var/tmp/rpm-stubs/rpm`,
  `printf '%s\\n' '#!/bin/bash' 'printf "%s %s\\n" "$(basename "$0")" "$*" >>"$STUB_LOG"' >/var/tmp/rpm-stubs/dnf`,
  'chmod +x /var/tmp/rpm-stubs/rpm /var/tmp/rpm-stubs/dnf',
  'export PATH=/var/tmp/rpm-stubs:$PATH',
];

let gen: { dir: string; unpacked: string } | null = null;
let inventoryDir = '';
test.before(async () => {
  if (!canMakeNamespaces()) return;
  inventoryDir = tempDir();
  writeFileSync(join(inventoryDir, 'inventory.json'), JSON.stringify(inventory));
  gen = await generateAndUnpack(join(inventoryDir, 'inventory.json'));
});
test.after(() => {
  if (gen) cleanup(gen.dir);
  if (inventoryDir) cleanup(inventoryDir);
});

function run(host: 'e1' | 'cp1', osRelease: string, state: NodeState = {}, args: string[] = ['--only', 'preflight']) {
  if (!gen) throw new Error('the bundles were not generated (see test.before)');
  const files = { '/etc/os-release': osRelease, ...state.files };
  return runInSandbox(join(gen.unpacked, host), host === 'e1' ? ETCD : NODE, args, { kubelet: '', kubeadm: '', ...state, files }, 120);
}

testNeeding([NAMESPACES], 'os-release: openEuler, Kylin Linux Advanced Server and UOS Server are RHEL-like; Kylin on Ubuntu is Debian-like', () => {
  const families: [keyof typeof OS_RELEASE, string][] = [
    ['debian12', 'debian'],
    ['rocky9', 'rhel'],
    ['openEuler', 'rhel'],
    ['kylinServer', 'rhel'],
    ['kylinDebian', 'debian'],
    ['uosServer', 'rhel'],
  ];
  for (const [os, family] of families) {
    const r = run('e1', OS_RELEASE[os]);
    assert.is(r.code, 0, `${os}: ${r.out}${r.err}`);
    assert.match(r.out, `OS family: ${family}`, os);
    assert.is(r.out.includes('(the Docker packages of CentOS 8)'), ['openEuler', 'kylinServer', 'uosServer'].includes(os), os);
  }
});

testNeeding([NAMESPACES], 'os-release: a Kylin without ID_LIKE that is not the Advanced Server and UOS desktop editions are refused by name', () => {
  const kylin = run('e1', OS_RELEASE.kylinV11);
  assert.is(kylin.code, 1);
  assert.match(
    kylin.err,
    'error: Kylin (ID=kylin without ID_LIKE) is neither Kylin Linux Advanced Server (rpm) nor a Kylin edition that names ID_LIKE=debian: kubeha cannot tell its package family: kubeha supports Debian-like (apt) and RHEL-like (dnf/yum) hosts',
  );
  const uos = run('e1', OS_RELEASE.uosDesktop);
  assert.is(uos.code, 1);
  assert.match(uos.err, 'error: uos (ID=uos without a PLATFORM_ID) is a UnionTech OS desktop edition: kubeha supports UOS Server 20 (rpm');
});

testNeeding([NAMESPACES], "Docker's repository: CentOS 8's on openEuler, Kylin and UOS Server, $releasever on Rocky", () => {
  const repoOn = (os: keyof typeof OS_RELEASE) => {
    const r = run(
      'cp1',
      OS_RELEASE[os],
      { before: RPM_STUBS, containerd: '2.2.9', env: { STUB_RPMS: 'conntrack-tools socat cri-tools nftables' }, readBack: ['/etc/yum.repos.d/docker-ce.repo'] },
      ['--only', 'packages'],
    );
    assert.is(r.code, 0, `${os}: ${r.out}${r.err}`);
    return /^baseurl=(.*)$/m.exec(r.back[0] ?? '')?.[1];
  };
  assert.is(repoOn('rocky9'), 'https://download.docker.com/linux/centos/$releasever/$basearch/stable');
  for (const os of ['openEuler', 'kylinServer', 'uosServer'] as const) assert.is(repoOn(os), 'https://download.docker.com/linux/centos/8/$basearch/stable', os);
});

testNeeding([NAMESPACES], 'RHEL-like node with podman, buildah or runc: preflight names them and the fix before anything changes', () => {
  const refused = run('cp1', OS_RELEASE.rocky9, { before: RPM_STUBS, env: { STUB_RPMS: 'podman runc buildah' } });
  assert.is(refused.code, 1);
  assert.match(
    refused.err,
    "installed: podman buildah runc, which cannot stay beside Docker's containerd.io (it replaces runc and containerd; podman and buildah need the distribution's runc): remove them as Docker's install guide does (dnf remove podman buildah runc), then run this script again",
  );
  assert.equal(
    changes(refused.calls).filter((c) => !c.startsWith('rpm ')),
    [],
  );
  const shown = run('cp1', OS_RELEASE.rocky9, { before: RPM_STUBS, env: { STUB_RPMS: 'podman runc' } }, ['--dry-run', '--only', 'preflight']);
  assert.is(shown.code, 0, shown.out + shown.err);
  assert.match(shown.err, 'warning: installed: podman runc, which cannot stay');
  // containerd.io already here (it replaced runc): nothing to refuse; a Debian host is not asked.
  assert.is(run('cp1', OS_RELEASE.rocky9, { before: RPM_STUBS, env: { STUB_RPMS: 'containerd.io podman' } }).code, 0);
  const clean = run('cp1', OS_RELEASE.rocky9, { before: RPM_STUBS, env: { STUB_RPMS: 'bash' } });
  assert.is(clean.code, 0, clean.out + clean.err);
  assert.not.match(clean.err, 'cannot stay beside');
});

testNeeding([NAMESPACES], 'the clock: no time service stops preflight with the fix; one not yet synchronised is waited for, then a warning', () => {
  const debian = OS_RELEASE.debian12;
  const synced = run('e1', debian);
  assert.match(synced.out, 'the clock is synchronised\n');
  const none = run('e1', debian, { clock: 'NTP=no\\nNTPSynchronized=no\\n' });
  assert.is(none.code, 1);
  assert.match(none.err, "no time service keeps this host's clock synchronised (timedatectl: NTP=no)");
  assert.match(none.err, 'apt-get install chrony');
  assert.match(none.err, 'dnf install chrony && systemctl enable --now chronyd');
  const accepted = run('e1', debian, { clock: 'NTP=no\\nNTPSynchronized=no\\n', env: { KUBEHA_CLOCK_CHECK: 'warn' } });
  assert.is(accepted.code, 0, accepted.out + accepted.err);
  assert.match(accepted.err, "warning: no time service keeps this host's clock synchronised");
  const started = Date.now();
  const pending = run('e1', debian, { clock: 'NTP=yes\\nNTPSynchronized=no\\n', env: { KUBEHA_CLOCK_WAIT: '4' } });
  assert.is(pending.code, 0, pending.out + pending.err);
  assert.match(pending.err, 'warning: the time service has not synchronised the clock (waited 4s');
  assert.ok(Date.now() - started >= 4000, 'it waited');
  // In a container the clock is the machine's (the e2e's booted hosts): said, not refused.
  const container = run('e1', debian, { clock: 'NTP=no\\nNTPSynchronized=no\\n', container: 'systemd-nspawn' });
  assert.is(container.code, 0, container.out + container.err);
  assert.match(container.out, "a container: its clock is the host machine's, which must be synchronised");
  // Nothing answers (no timedatectl stub; this machine's own fails without systemd, and neither chronyc nor ntpstat is here).
  const unknown = run('e1', debian, { absent: ['timedatectl'] });
  assert.is(unknown.code, 0, unknown.out + unknown.err);
  assert.match(unknown.err, 'warning: cannot tell whether the clock is synchronised');
});

test.run();
