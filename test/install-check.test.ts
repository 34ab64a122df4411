/**
 * run.sh installs a configuration only once its daemon accepts it (issue 27 item 1): haproxy.cfg through haproxy -c,
 * keepalived.conf through keepalived -t and the metrics filters through nft -c, each run on the new version staged
 * beside the live one. A refused version stops run.sh with the checker's words and leaves the live file as it was.
 * Runs in the sandbox with the real haproxy, keepalived and nft of this machine.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ETCD_METRICS_FILTER_PATHS } from '../src/render/etcd-metrics.js';
import { LB_PATHS } from '../src/render/loadbalancer.js';
import { cleanup, compileDoc, generateAndUnpack, NAMESPACES, tempDir, testNeeding, text, type InventoryDoc } from './helpers.js';
import { runInSandbox } from './sandbox.js';

/** A control plane, a load balancer on eth0 and an etcd member, kube-prometheus on (the member gets a metrics filter). */
const DOC: InventoryDoc = {
  cluster: { name: 'checked', kubernetesVersion: '1.34.2', podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/16' },
  loadBalancer: { vip: '127.0.27.100', interface: 'eth0' },
  addons: { kubePrometheus: { enabled: true, sha256: 'ab'.repeat(32) } },
  hosts: [
    { name: 'cp1', address: '127.0.27.1', roles: ['control-plane'] },
    { name: 'lb1', address: '127.0.27.2', roles: ['loadbalancer'] },
    { name: 'e1', address: '127.0.27.3', roles: ['etcd'] },
  ],
};

/** The load balancer needs eth0 (the inventory's interface) and keepalived's script user. */
const LB_HOST = ['ip link add eth0 type bridge', 'useradd --system --no-create-home keepalived_script'];

/** Replaces a file of an unpacked bundle and its line in the bundle's SHA256SUMS, as a broken generator would. */
function tamper(bundle: string, path: string, edit: (text: string) => string): void {
  const file = join(bundle, 'rootfs', path);
  const changed = edit(readFileSync(file, 'utf8'));
  assert.is.not(changed, readFileSync(file, 'utf8'), `the edit changes ${path}`);
  writeFileSync(file, changed);
  const sum = createHash('sha256').update(changed).digest('hex');
  const sums = readFileSync(join(bundle, 'SHA256SUMS'), 'utf8').replace(/^[0-9a-f]{64}( {2}rootfs(\S+))$/gm, (line, rest, p) =>
    p === path ? sum + rest : line,
  );
  writeFileSync(join(bundle, 'SHA256SUMS'), sums);
}

test('the install lines name the checks: haproxy.cfg, keepalived.conf, the nftables rules; the VRRP interface file comes first', async () => {
  const { hosts } = await compileDoc(DOC);
  const lb = text(hosts, 'lb1', 'run.sh');
  assert.match(lb, `install_file 0600 ${LB_PATHS.haproxy} check_haproxy\n`);
  assert.match(lb, `install_file 0600 ${LB_PATHS.keepalived} check_keepalived\n`);
  assert.match(lb, `install_file 0755 ${LB_PATHS.check}\n`);
  assert.ok(lb.indexOf(`install_text 0644 ${LB_PATHS.interface}`) < lb.indexOf('  # install files\n'), 'keepalived -t reads the included file');
  assert.match(text(hosts, 'e1', 'run.sh'), `install_file 0644 ${ETCD_METRICS_FILTER_PATHS.rules} check_nft\n`);
  assert.not.match(text(hosts, 'cp1', 'run.sh'), 'check_haproxy()', 'only the checks a host uses are defined');
});

testNeeding(
  ['haproxy', 'keepalived', 'nft', NAMESPACES],
  'sandbox: a config its daemon refuses is not installed; the live one stays, the checker says why',
  async () => {
    const dir = tempDir();
    const inventory = join(dir, 'inventory.json');
    writeFileSync(inventory, JSON.stringify(DOC));
    const gen = await generateAndUnpack(inventory);
    try {
      const lb = join(gen.unpacked, 'lb1');
      const member = join(gen.unpacked, 'e1');
      const old = { [LB_PATHS.haproxy]: 'the running haproxy.cfg\n', [LB_PATHS.keepalived]: 'the running keepalived.conf\n' };
      const files = (back: string[]) => ({ files: old, before: LB_HOST, readBack: [...back, ...back.map((p) => `${p}.kubeha-new`)] });

      // The generated files pass their checks and replace the old ones.
      const good = runInSandbox(lb, '127.0.27.2', ['--only', 'files'], files([LB_PATHS.haproxy, LB_PATHS.keepalived]));
      assert.is(good.code, 0, good.out + good.err);
      assert.equal(good.back.slice(0, 2), [
        readFileSync(join(lb, 'rootfs', LB_PATHS.haproxy), 'utf8'),
        readFileSync(join(lb, 'rootfs', LB_PATHS.keepalived), 'utf8'),
      ]);

      tamper(lb, LB_PATHS.haproxy, (t) => t.replace('  option dontlognull\n', '  option dontlognull\n  no-such-keyword 1\n'));
      const haproxy = runInSandbox(lb, '127.0.27.2', ['--only', 'files'], files([LB_PATHS.haproxy]));
      assert.is(haproxy.code, 1, haproxy.out);
      assert.match(haproxy.err, "unknown keyword 'no-such-keyword'", 'haproxy says why');
      assert.match(haproxy.err, `error: the new ${LB_PATHS.haproxy} is refused by its daemon's check (above): the installed one is left as it was`);
      assert.equal(haproxy.back, [old[LB_PATHS.haproxy], null], 'the running haproxy.cfg is untouched, nothing staged is left');

      tamper(lb, LB_PATHS.haproxy, (t) => t.replace('  no-such-keyword 1\n', ''));
      tamper(lb, LB_PATHS.keepalived, (t) => t.replace('  nopreempt\n', '  nopreemptx\n'));
      const keepalived = runInSandbox(lb, '127.0.27.2', ['--only', 'files'], files([LB_PATHS.keepalived]));
      assert.is(keepalived.code, 1, keepalived.out);
      assert.match(keepalived.err, "Unknown keyword 'nopreemptx'");
      assert.match(keepalived.err, `error: the new ${LB_PATHS.keepalived} is refused by its daemon's check (above)`);
      assert.equal(keepalived.back, [old[LB_PATHS.keepalived], null]);

      const rules = ETCD_METRICS_FILTER_PATHS.rules;
      tamper(member, rules, (t) => t.replace('type filter hook input priority filter;', 'type filter hook inputs priority filter;'));
      const nft = runInSandbox(member, '127.0.27.3', ['--only', 'files'], {
        files: { [rules]: '# the loaded rules\n' },
        readBack: [rules, `${rules}.kubeha-new`],
      });
      assert.is(nft.code, 1, nft.out);
      assert.match(nft.err, `nft -c -f ${rules}.kubeha-new:`);
      assert.match(nft.err, 'inputs');
      assert.equal(nft.back, ['# the loaded rules\n', null]);
    } finally {
      cleanup(gen.dir);
      cleanup(dir);
    }
  },
);

test.run();
