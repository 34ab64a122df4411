/**
 * keepalived's VRRP interface (issue 11 item 18): with none in the inventory, run.sh uses the one interface holding the
 * host's address and writes it to the file keepalived.conf includes; a change of that interface reloads keepalived;
 * none or several holding the address stop run.sh with what to set; an interface the inventory names must exist.
 * Real run.sh in its own network and mount namespaces (a veth named like a cloud NIC), systemctl and haproxy stubbed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, generateAndUnpack, NAMESPACES, tempDir, testNeeding, type InventoryDoc } from './helpers.js';
import { LB_PATHS } from '../src/render/loadbalancer.js';

const ADDRESS = '10.30.0.13';

/** Two load balancers: lb3 with no interface anywhere in the inventory, lb2 naming eth0 for itself. */
const CLUSTER: InventoryDoc = {
  cluster: { name: 'iface', kubernetesVersion: '1.34.2', podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/16' },
  loadBalancer: { vip: '10.30.0.100', port: 16443 },
  etcd: { install: 'distro' },
  hosts: [
    { name: 'cp1', address: '10.30.0.11', roles: ['control-plane'] },
    { name: 'lb2', address: '10.30.0.12', roles: ['loadbalancer'], interface: 'eth0' },
    { name: 'lb3', address: ADDRESS, roles: ['loadbalancer'] },
    { name: 'etcd1', address: '10.30.0.21', roles: ['etcd'] },
  ],
};

/** The generated, unpacked bundles (generated once: keys take seconds on a busy machine). */
let generated: Promise<Awaited<ReturnType<typeof generateAndUnpack>>> | undefined;
function bundles() {
  generated ??= (async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'inventory.json'), JSON.stringify(CLUSTER));
    return generateAndUnpack(join(dir, 'inventory.json'), join(dir, 'secrets'));
  })();
  return generated;
}

/** A systemctl that logs its arguments and says every unit is active and enabled. */
const SYSTEMCTL_STUB = '#!/bin/sh\nprintf \'%s\\n\' "$*" >>"$STUB_LOG"\nexit 0\n';

/**
 * One host: its own network (links named as given, each holding the address) and its own /etc/keepalived,
 * /etc/haproxy, /var/lib and /var/log; the state of the first three lasts from run to run.
 */
function hostWith(dir: string, runSh: string, address = ADDRESS) {
  const stubs = join(dir, 'stubs');
  const state = { keepalived: join(dir, 'etc-keepalived'), haproxy: join(dir, 'etc-haproxy'), lib: join(dir, 'var-lib') };
  for (const d of [stubs, ...Object.values(state)]) mkdirSync(d, { recursive: true });
  writeFileSync(join(stubs, 'systemctl'), SYSTEMCTL_STUB);
  writeFileSync(join(stubs, 'haproxy'), '#!/bin/sh\nexit 0\n');
  // keepalived -t (run.sh's check of keepalived.conf) needs its script user, which the packages phase creates.
  writeFileSync(join(stubs, 'keepalived'), '#!/bin/sh\nexit 0\n');
  for (const s of ['systemctl', 'haproxy', 'keepalived']) chmodSync(join(stubs, s), 0o755);
  const log = join(dir, 'systemctl.log');
  return {
    keepalived: state.keepalived,
    /** Runs run.sh with `args` on a host whose links `links` hold ADDRESS; returns status, output and systemctl calls. */
    run(links: string[], args: string[]) {
      rmSync(log, { force: true });
      const net = links.map((l, i) => `ip link add ${l} type veth peer name kh-peer${i} && ip addr add ${address}/24 dev ${l} && `).join('');
      const mounts = 'mount --bind "$1" /etc/keepalived && mount --bind "$2" /etc/haproxy && mount --bind "$3" /var/lib && mount -t tmpfs tmpfs /var/log';
      const script = `${net}${mounts} && shift 3 && exec bash "$@"`;
      const r = spawnSync(
        'unshare',
        ['-n', '-m', '--propagation', 'private', 'sh', '-c', script, 'sh', state.keepalived, state.haproxy, state.lib, runSh, ...args],
        {
          encoding: 'utf8',
          timeout: 60_000,
          env: { ...process.env, PATH: `${stubs}:${process.env.PATH}`, STUB_LOG: log },
        },
      );
      return { status: r.status, out: r.stdout + r.stderr, err: r.stderr, calls: existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [] };
    },
  };
}

const reloads = (calls: string[]) => calls.filter((c) => /^(reload|restart|start|enable)/.test(c));

testNeeding(
  [NAMESPACES],
  'no interface in the inventory: run.sh writes the one holding the address (ens5) for keepalived, and reloads keepalived when it changes (ens6)',
  async () => {
    const dir = tempDir();
    const gen = await bundles();
    try {
      const host = hostWith(dir, join(gen.unpacked, 'lb3', 'run.sh'));
      const chosen = () => readFileSync(join(host.keepalived, 'kubeha-interface.conf'), 'utf8');
      const conf = readFileSync(join(gen.unpacked, 'lb3', 'rootfs', LB_PATHS.keepalived), 'utf8');
      assert.match(conf, `\n  include ${LB_PATHS.interface}\n`);

      const first = host.run(['ens5'], ['--only', 'preflight,files,services']);
      assert.is(first.status, 0, first.out);
      assert.is(chosen(), `# keepalived's VRRP interface on lb3, written by kubeha's run.sh: the interface holding ${ADDRESS}.\ninterface ens5\n`);
      assert.ok(readFileSync(join(host.keepalived, 'keepalived.conf')).equals(Buffer.from(conf)), 'keepalived.conf installed as shipped');
      assert.ok(first.calls.includes('reload keepalived'), first.calls.join('\n'));

      const same = host.run(['ens5'], ['--only', 'preflight,files,services']);
      assert.is(same.status, 0, same.out);
      assert.not.match(same.out, 'installed ');
      assert.equal(reloads(same.calls), [], 'nothing changed: nothing reloaded');

      // The NIC is renamed (or the bundle moves to a host whose NIC is named otherwise): keepalived follows.
      const renamed = host.run(['ens6'], ['--only', 'preflight,files,services']);
      assert.is(renamed.status, 0, renamed.out);
      assert.match(renamed.out, `installed ${LB_PATHS.interface} (0644)`);
      assert.ok(chosen().endsWith('\ninterface ens6\n'), chosen());
      assert.equal(reloads(renamed.calls), ['reload keepalived'], 'keepalived reloads, haproxy does not');
    } finally {
      cleanup(dir);
    }
  },
);

testNeeding([NAMESPACES], 'no interface in the inventory: none or several interfaces holding the address stop run.sh with what to set', async () => {
  const dir = tempDir();
  const gen = await bundles();
  try {
    const host = hostWith(dir, join(gen.unpacked, 'lb3', 'run.sh'));
    const advice = "set loadBalancer.interface (or this host's interface) in the inventory to the interface for the VIP and generate again";
    const several = host.run(['ens5', 'ens6'], ['--only', 'preflight']);
    assert.is(several.status, 1, several.out);
    assert.match(
      several.err,
      `keepalived's VIP goes on the interface holding ${ADDRESS}, but several interfaces hold ${ADDRESS} (ens5 ens6): ${advice}`,
      several.err,
    );
    // A machine without the address: preflight's host check runs first, whatever --only says (issue 11 item 15).
    const none = host.run([], ['--only', 'files']);
    assert.is(none.status, 1, none.out);
    assert.match(none.err, `this machine does not have ${ADDRESS}: this bundle is for lb3`, none.err);
    assert.not.ok(existsSync(join(host.keepalived, 'kubeha-interface.conf')), 'no interface file written');
    // --dry-run, and --root (a review on another machine), warn and go on; --root writes no interface file.
    const dry = host.run([], ['--dry-run', '--only', 'files']);
    assert.is(dry.status, 0, dry.out);
    assert.match(dry.err, `warning: keepalived's VIP goes on the interface holding ${ADDRESS}, but no interface`);
    const root = join(dir, 'review');
    const review = host.run([], ['--root', root, '--only', 'files']);
    assert.is(review.status, 0, review.out);
    assert.match(review.err, `warning: keepalived's VIP goes on the interface holding ${ADDRESS}, but no interface`);
    assert.ok(existsSync(join(root, LB_PATHS.keepalived)), 'the bundle files are installed');
    assert.not.ok(existsSync(join(root, LB_PATHS.interface)), 'no interface file');
  } finally {
    cleanup(dir);
  }
});

testNeeding(
  [NAMESPACES],
  'an interface the inventory names (here for one host) is an override: used as is where it exists, and a host without it stops preflight naming the one to set',
  async () => {
    const dir = tempDir();
    const gen = await bundles();
    try {
      const host = hostWith(dir, join(gen.unpacked, 'lb2', 'run.sh'), '10.30.0.12');
      const refused = host.run(['ens9'], ['--only', 'preflight']);
      assert.is(refused.status, 1, refused.out);
      assert.match(
        refused.err,
        "this host has no interface eth0 for keepalived's VIP; 10.30.0.12 is on ens9: set loadBalancer.interface (or this host's interface) in the inventory to ens9 and generate again",
      );
      const accepted = host.run(['eth0'], ['--only', 'preflight,files']);
      assert.is(accepted.status, 0, accepted.out);
      assert.ok(readFileSync(join(host.keepalived, 'kubeha-interface.conf'), 'utf8').endsWith('\ninterface eth0\n'));
    } finally {
      cleanup(dir);
    }
  },
);

test.after(async () => {
  if (generated) cleanup((await generated).dir);
});

test.run();
