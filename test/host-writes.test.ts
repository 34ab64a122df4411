/**
 * Where run.sh writes as root (issue 27 items 2, 3 and 5), in the sandbox: a link planted by a user who owns a folder on
 * the way is not followed (kubeha's state folders are checked at start, the folders handed to etcd before they are);
 * units and filters a killed run installed are applied by the next run (the applied-state stamps decide, not what this
 * run installed); a snapshot folder that is a link of root's is not "changed" on every run; --root follows no link.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanup, generateAndUnpack, NAMESPACES, tempDir, testNeeding, type InventoryDoc } from './helpers.js';
import { changes, runInSandbox } from './sandbox.js';

/** A control plane and an etcd member with kube-prometheus on (a metrics filter) and the given etcd settings. */
function cluster(etcd: Record<string, unknown> = {}): InventoryDoc {
  return {
    cluster: { name: 'writes', kubernetesVersion: '1.34.2', podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/16' },
    etcd,
    addons: { kubePrometheus: { enabled: true, sha256: 'ab'.repeat(32) } },
    hosts: [
      { name: 'cp1', address: '127.0.28.1', roles: ['control-plane'] },
      { name: 'e1', address: '127.0.28.2', roles: ['etcd'] },
    ],
  };
}

/** Generates and unpacks the bundles of an inventory; `done` removes everything. */
async function bundles(doc: InventoryDoc) {
  const dir = tempDir();
  writeFileSync(join(dir, 'inventory.json'), JSON.stringify(doc));
  const gen = await generateAndUnpack(join(dir, 'inventory.json'));
  return { unpacked: gen.unpacked, done: () => [dir, gen.dir].forEach(cleanup) };
}

/** The etcd member's etcdctl (/usr/local/bin, the release install) answers health checks: a stub on a private tmpfs. */
const ETCDCTL = ['mount -t tmpfs tmpfs /usr/local/bin', "printf '#!/bin/sh\\nexit 0\\n' >/usr/local/bin/etcdctl", 'chmod 0755 /usr/local/bin/etcdctl'];

/** A folder of /etc (the sandbox's overlay) a planted link points at; what lands in it is in the overlay's upper layer. */
const VICTIM = '/etc/kubeha-victim';

/** Owner, mode and entries of the victim folder after the runs (from the overlay's upper layer of /etc). */
function victim(upper: string): { uid: number; mode: string; entries: string[] } {
  const path = join(upper, 'eu', VICTIM.slice('/etc/'.length));
  const st = statSync(path);
  return { uid: st.uid, mode: (st.mode & 0o7777).toString(8), entries: readdirSync(path) };
}

/** A sandbox `before` line that replaces the stub of `name` (first on PATH) with a script that logs its call and runs `body`. */
function stubbed(name: string, body: string): string {
  const script = ['#!/bin/bash', `printf '${name} %s\\n' "$*" >>"$STUB_LOG"`, body].join('\n');
  return `printf '%s\\n' '${script.replace(/'/g, `'\\''`)}' >"\${PATH%%:*}/${name}" && chmod 0755 "\${PATH%%:*}/${name}"`;
}

testNeeding(
  [NAMESPACES],
  'a data dir whose folder belongs to another user, holding a link of theirs, is refused: the link target keeps its owner',
  async () => {
    const b = await bundles(cluster({ dataDir: '/var/opt/shared/etcd' }));
    const upper = tempDir();
    try {
      const plant = [
        `mkdir -m 0755 ${VICTIM}`,
        'mkdir -p /var/opt/shared',
        'chown nobody /var/opt/shared',
        `ln -s ${VICTIM} /var/opt/shared/etcd`,
        'chown -h nobody /var/opt/shared/etcd',
      ];
      const r = runInSandbox(join(b.unpacked, 'e1'), '127.0.28.2', ['--only', 'services'], { upper, before: [...ETCDCTL, ...plant] });
      assert.is(r.code, 1, r.out);
      assert.match(r.err, 'error: refusing to write the etcd data dir /var/opt/shared/etcd: /var/opt/shared/etcd is a link, owned by nobody');
      assert.not.ok(
        r.calls.some((c) => c.includes('etcd.service')),
        'etcd is not started',
      );
      assert.equal(victim(upper), { uid: 0, mode: '755', entries: [] }, 'the link target is not handed to etcd');
    } finally {
      cleanup(upper);
      b.done();
    }
  },
);

testNeeding(
  [NAMESPACES],
  "kubeha's state folder owned by another user, or holding a link, stops run.sh at start: nothing is written through the link",
  async () => {
    const b = await bundles(cluster());
    try {
      const cases: [string, string[], string][] = [
        [
          'an older data dir gave /var/lib/kubeha to nobody, who made applied a link',
          ['mkdir -p /var/lib/kubeha', 'chown nobody /var/lib/kubeha', `ln -s ${VICTIM} /var/lib/kubeha/applied`, 'chown -h nobody /var/lib/kubeha/applied'],
          '/var/lib/kubeha belongs to nobody, not to root',
        ],
        [
          "the folder is root's again, but a link nobody planted is still inside",
          [
            'mkdir -p /var/lib/kubeha/applied',
            `ln -s ${VICTIM}/sysctl /var/lib/kubeha/applied/sysctl.tmp`,
            'chown -h nobody /var/lib/kubeha/applied/sysctl.tmp',
          ],
          `/var/lib/kubeha/applied/sysctl.tmp is a link to ${VICTIM}/sysctl`,
        ],
        [
          'the log folder is writable by everyone',
          ['mkdir -p -m 0777 /var/log/kubeha'],
          '/var/log/kubeha may be written by other users (mode 777, group root)',
        ],
      ];
      for (const [what, plant, why] of cases) {
        const upper = tempDir();
        try {
          // The os phase applies the sysctls and stamps them in /var/lib/kubeha/applied.
          const r = runInSandbox(join(b.unpacked, 'cp1'), '127.0.28.1', ['--only', 'os'], { upper, before: [`mkdir -m 0755 ${VICTIM}`, ...plant] });
          assert.is(r.code, 1, `${what}: ${r.out}`);
          assert.match(r.err, `error: kubeha keeps its state in folders only root may change, but ${why}:`, what);
          assert.equal(changes(r.calls), [], `${what}: nothing done`);
          assert.equal(victim(upper).entries, [], `${what}: nothing written through the link`);
        } finally {
          cleanup(upper);
        }
      }
    } finally {
      b.done();
    }
  },
);

testNeeding(
  [NAMESPACES],
  'a run killed after installing the files: the next run reloads systemd and restarts the metrics filter and the backup timer',
  async () => {
    const b = await bundles(cluster());
    const upper = tempDir();
    try {
      const member = join(b.unpacked, 'e1');
      const run = (phases: string) => runInSandbox(member, '127.0.28.2', ['--only', phases], { upper, before: ETCDCTL });
      // What a run killed between the files and the services phase leaves: the files installed, nothing applied.
      const files = run('files');
      assert.is(files.code, 0, files.err);
      assert.match(files.out, 'installed /etc/systemd/system/etcd-backup.timer');
      const services = run('services');
      assert.is(services.code, 0, services.err);
      const done = changes(services.calls);
      for (const call of ['systemctl daemon-reload', 'systemctl restart kubeha-etcd-metrics-filter.service', 'systemctl restart etcd-backup.timer'])
        assert.ok(done.includes(call), `${call}:\n${done.join('\n')}`);
      assert.not.match(services.out, 'installed ', 'this run installed nothing');
      const again = run('services');
      assert.is(again.code, 0, again.err);
      assert.equal(
        changes(again.calls).filter((c) => /^systemctl (daemon-reload|restart|start)/.test(c)),
        [],
        'once applied, nothing again',
      );
      assert.match(again.out, 'kubeha: changed=0');
    } finally {
      cleanup(upper);
      b.done();
    }
  },
);

testNeeding([NAMESPACES], 'firewalld: a run killed after the permanent rules, before the reload: the next run reloads (the running rules decide)', async () => {
  const b = await bundles(cluster());
  try {
    // A firewall-cmd whose permanent configuration has every rule and whose running one has none: what a run killed
    // between firewall-cmd --permanent --add-* and firewall-cmd --reload leaves.
    const replace = stubbed('firewall-cmd', 'case "$*" in *--permanent*--query-*) exit 0 ;; *--query-*) exit 1 ;; esac');
    const r = runInSandbox(join(b.unpacked, 'cp1'), '127.0.28.1', ['--only', 'os'], { before: [replace] });
    assert.is(r.code, 0, r.out + r.err);
    const firewall = r.calls.filter((c) => c.startsWith('firewall-cmd'));
    assert.ok(firewall.includes('firewall-cmd --query-port=6443/tcp'), firewall.join('\n'));
    assert.equal(
      firewall.filter((c) => !c.includes('--query-')),
      ['firewall-cmd --reload'],
      'nothing added (the permanent rules are there), and reloaded',
    );
  } finally {
    b.done();
  }
});

testNeeding([NAMESPACES], "ufw: VRRP's rule in before.rules but not running (killed before ufw reload): the next run reloads", async () => {
  const doc = cluster();
  doc.loadBalancer = { vip: '127.0.28.100' };
  doc.hosts.push({ name: 'lb1', address: '127.0.28.5', roles: ['loadbalancer'] });
  const b = await bundles(doc);
  try {
    const rule = '-A ufw-before-input -p 112 -j ACCEPT';
    const rules = `*filter\n${rule}\n# don't delete the 'COMMIT' line or these rules won't be processed\nCOMMIT\n`;
    const run = (loaded: boolean) =>
      runInSandbox(join(b.unpacked, 'lb1'), '127.0.28.5', ['--only', 'os'], {
        absent: ['firewall-cmd'],
        files: { '/etc/ufw/before.rules': rules },
        // iptables -C answers whether the running rules hold the rule.
        before: loaded ? [] : [stubbed('iptables', 'exit 1')],
      });
    const killed = run(false);
    assert.is(killed.code, 0, killed.out + killed.err);
    assert.ok(killed.calls.includes('iptables -C ufw-before-input -p 112 -j ACCEPT'), killed.calls.join('\n'));
    assert.ok(killed.calls.includes('ufw reload'), killed.calls.join('\n'));
    assert.not.ok(
      killed.calls.some((c) => c.startsWith('sed')),
      'the file already has the rule',
    );
    const loaded = run(true);
    assert.is(loaded.code, 0, loaded.err);
    assert.not.ok(loaded.calls.includes('ufw reload'), 'running rules hold it: no reload');
  } finally {
    b.done();
  }
});

testNeeding([NAMESPACES], "a snapshot folder that is root's link to a folder of root's: made once, then no change on every run", async () => {
  const b = await bundles(cluster({ backup: { dir: '/var/backups/etcd-link' } }));
  const upper = tempDir();
  try {
    const member = join(b.unpacked, 'e1');
    const link = ['if [ ! -L /var/backups/etcd-link ]; then mkdir -p /var/backups/real && ln -s real /var/backups/etcd-link; fi'];
    const run = () => runInSandbox(member, '127.0.28.2', ['--only', 'files,services'], { upper, before: [...ETCDCTL, ...link] });
    const first = run();
    assert.is(first.code, 0, first.err);
    assert.match(first.out, '+ install -d -m 0700 -o etcd -g etcd /var/backups/etcd-link');
    const second = run();
    assert.is(second.code, 0, second.err);
    assert.not.match(second.out, 'install -d');
    assert.match(second.out, 'kubeha: changed=0');
  } finally {
    cleanup(upper);
    b.done();
  }
});

testNeeding([NAMESPACES], "preflight finds the host's address among thousands (no grep -q on a pipe: pipefail and SIGPIPE)", async () => {
  const b = await bundles(cluster());
  try {
    // The host's address comes first in ip's output, then 4 000 more: grep -q stops reading early.
    const many = 'for i in $(seq 0 3999); do echo "addr add 127.3.$((i / 250)).$((i % 250 + 1))/32 dev lo"; done | ip -batch -';
    for (let i = 0; i < 3; i++) {
      const r = runInSandbox(join(b.unpacked, 'cp1'), '127.0.28.1', ['--only', 'preflight'], { before: [many] });
      assert.is(r.code, 0, r.err);
      assert.not.match(r.err, 'this machine does not have');
    }
  } finally {
    b.done();
  }
});

test('--root DIR follows no link inside DIR: a link to a folder outside is refused and nothing is written there', async () => {
  const b = await bundles(cluster());
  const dir = tempDir();
  try {
    const root = join(dir, 'root');
    const outside = join(dir, 'outside');
    const runRoot = () => spawnSync('bash', [join(b.unpacked, 'cp1', 'run.sh'), '--root', root, '--only', 'files'], { encoding: 'utf8' });
    mkdirSync(outside);
    // DIR/etc a link: kubeha's folder DIR/etc/kubeha would be reached through it.
    mkdirSync(root);
    symlinkSync(outside, join(root, 'etc'));
    const etc = runRoot();
    assert.is(etc.status, 1, etc.stdout);
    assert.match(etc.stderr, `error: kubeha keeps its state in folders only root may change, but ${root}/etc is a link inside --root ${root}, owned by root:`);
    // DIR/etc/containerd a link: the file that goes there is refused.
    cleanup(root);
    mkdirSync(join(root, 'etc'), { recursive: true });
    symlinkSync(outside, join(root, 'etc', 'containerd'));
    const containerd = runRoot();
    assert.is(containerd.status, 1, containerd.stdout);
    assert.match(
      containerd.stderr,
      `error: refusing to write file /etc/containerd/config.toml: ${root}/etc/containerd is a link inside --root ${root}, owned by root, so another user could send root's write elsewhere`,
    );
    assert.equal(readdirSync(outside), [], 'nothing written through the links');
    // Without the link the same run installs everything, under DIR only.
    cleanup(join(root, 'etc', 'containerd'));
    const ok = runRoot();
    assert.is(ok.status, 0, ok.stderr);
    assert.ok(existsSync(join(root, 'etc/containerd/config.toml')));
    assert.equal(readdirSync(outside), []);
  } finally {
    cleanup(dir);
    b.done();
  }
});

test.run();
