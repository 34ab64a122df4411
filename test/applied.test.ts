/**
 * run.sh on minimal hosts (issue 11 items 17 and 21): every command it uses that a minimal Debian lacks is installed
 * before its first use, and a reload that failed is retried by the next run (what a daemon has applied is tracked, not
 * what this run installed). The booted-host e2e run (npm run e2e) proves both on real Debian 12 containers.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, compileDoc, generateAndUnpack, NAMESPACES, tempDir, testNeeding, type InventoryDoc } from './helpers.js';

/** A cluster with every kind of host, the etcd release download, and docker on the nodes. */
function cluster(runtime: string, etcdInstall: string): InventoryDoc {
  return {
    cluster: { name: 'minimal', kubernetesVersion: '1.34.2', podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/16', containerRuntime: runtime },
    loadBalancer: { vip: '10.30.0.100', port: 16443 },
    etcd: { install: etcdInstall },
    hosts: [
      { name: 'cp1', address: '10.30.0.11', roles: ['control-plane', 'loadbalancer'] },
      { name: 'cp2', address: '10.30.0.12', roles: ['control-plane', 'loadbalancer'] },
      { name: 'lb3', address: '10.30.0.13', roles: ['loadbalancer'] },
      { name: 'etcd1', address: '10.30.0.21', roles: ['etcd'] },
      { name: 'w1', address: '10.30.0.31', roles: ['worker'] },
    ],
  };
}

/**
 * What run.sh uses that Debian's minimal (minbase) root lacks, and the package that brings it. `uses` matches a line
 * that runs it; the package must be installed (pkg_install, or a list of missing packages pkg_install gets) on an earlier
 * line of the script (phases run in order).
 */
const NOT_IN_MINIMAL_DEBIAN: { what: string; uses: RegExp; pkg: string }[] = [
  { what: 'curl', uses: commandAt('curl'), pkg: 'curl' },
  { what: 'gpg', uses: commandAt('gpg'), pkg: 'gpg' },
  { what: 'modprobe', uses: commandAt('modprobe'), pkg: 'kmod' },
  { what: 'sysctl', uses: commandAt('sysctl'), pkg: 'procps' },
  // Debian's (and RHEL's) haproxy and keepalived units reload with /bin/kill, which is procps.
  { what: 'a haproxy or keepalived reload', uses: /apply_unit (haproxy|keepalived) reload|systemctl reload (haproxy|keepalived)/, pkg: 'procps' },
];

/** A line that runs `command` (at a command position: line start, after ; | & ( ! run then do else or a quote). */
function commandAt(command: string): RegExp {
  return new RegExp(`(?:^|[;|&(!'"]|\\b(?:run|then|do|else|exec))\\s*${command}(?=[\\s;'"]|$)`);
}

/** A line that installs `pkg`: pkg_install with it, or adding it to a list of missing packages that pkg_install gets next. */
const installs = (pkg: string) => new RegExp(`\\bpkg_install\\b[^;]*\\s${pkg}(?=[\\s;]|$)|\\b[a-z]+_missing\\+=\\(${pkg}\\)`);

test('every command run.sh runs that minimal Debian lacks is installed by run.sh before its first use', async () => {
  let checked = 0;
  for (const doc of [cluster('containerd', 'release'), cluster('docker', 'distro')]) {
    const { hosts } = await compileDoc(doc);
    for (const [name, files] of hosts) {
      const lines = files
        .get('run.sh')!
        .bytes.toString('utf8')
        .split('\n')
        .map((l) => l.replace(/^\s*#.*$/, ''));
      for (const need of NOT_IN_MINIMAL_DEBIAN) {
        const used = lines.findIndex((l) => need.uses.test(l));
        if (used < 0) continue;
        const installed = lines.findIndex((l) => installs(need.pkg).test(l));
        assert.ok(
          installed >= 0 && installed < used,
          `${name}: run.sh line ${used + 1} uses ${need.what} (${lines[used]!.trim()}) but installs ${need.pkg} ${installed < 0 ? 'nowhere' : `only on line ${installed + 1}`}`,
        );
        checked++;
      }
    }
  }
  assert.ok(checked >= 12, `only ${checked} uses checked: the patterns no longer match run.sh`);
});

/** A systemctl that logs its arguments, says every unit is active and enabled, and fails `reload haproxy` on demand. */
const SYSTEMCTL_STUB = `#!/bin/sh
printf '%s\\n' "$*" >>"$STUB_LOG"
if [ "$1 $2" = "reload haproxy" ] && [ -e "$STUB_FAIL" ]; then
  echo "Job for haproxy.service failed (stub)." >&2
  exit 1
fi
exit 0
`;

testNeeding([NAMESPACES], 'a reload that failed is retried by the next run, which installs nothing; a third run reloads nothing', async () => {
  const dir = tempDir();
  const inv = join(dir, 'inventory.json');
  writeFileSync(inv, JSON.stringify(cluster('containerd', 'distro')));
  const gen = await generateAndUnpack(inv, join(dir, 'secrets'));
  try {
    const stubs = join(dir, 'stubs');
    spawnSync('mkdir', ['-p', stubs]);
    writeFileSync(join(stubs, 'systemctl'), SYSTEMCTL_STUB);
    writeFileSync(join(stubs, 'haproxy'), '#!/bin/sh\nexit 0\n');
    for (const s of ['systemctl', 'haproxy']) chmodSync(join(stubs, s), 0o755);
    const log = join(dir, 'systemctl.log');
    const fail = join(dir, 'fail-reload');
    const state = join(dir, 'var-lib');
    spawnSync('mkdir', ['-p', state]);
    // Its own network (holding the host's address) and mounts: /var/lib and /var/log of this machine stay untouched.
    const runServices = () => {
      rmSync(log, { force: true });
      const script = `ip link set lo up && ip addr add 10.30.0.13/32 dev lo && mount --bind "$1" /var/lib && mount -t tmpfs tmpfs /var/log && exec bash "$2" --only services`;
      const r = spawnSync('unshare', ['-n', '-m', '--propagation', 'private', 'sh', '-c', script, 'sh', state, join(gen.unpacked, 'lb3', 'run.sh')], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, PATH: `${stubs}:${process.env.PATH}`, STUB_LOG: log, STUB_FAIL: fail },
      });
      return { status: r.status, out: r.stdout + r.stderr, calls: existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [] };
    };

    writeFileSync(fail, '');
    const first = runServices();
    assert.is(first.status, 1, first.out);
    assert.match(first.out, /error: line [0-9]+: "systemctl reload haproxy" failed/, 'the error names the command that failed');
    assert.ok(first.calls.includes('reload haproxy'), first.calls.join('\n'));
    assert.not.ok(existsSync(join(state, 'kubeha/applied/haproxy')), 'no stamp after a failed reload');

    rmSync(fail);
    const second = runServices();
    assert.is(second.status, 0, second.out);
    assert.not.match(second.out, 'installed ');
    assert.ok(second.calls.includes('reload haproxy'), `the failed reload is retried:\n${second.calls.join('\n')}`);
    assert.ok(second.calls.includes('reload keepalived'), second.calls.join('\n'));
    assert.ok(existsSync(join(state, 'kubeha/applied/haproxy')));

    const third = runServices();
    assert.is(third.status, 0, third.out);
    assert.equal(
      third.calls.filter((c) => /^(reload|restart|start|enable)/.test(c)),
      [],
      third.out,
    );
  } finally {
    cleanup(gen.dir);
    cleanup(dir);
  }
});

test.run();
