import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ETCD_MEMBER_ADD_PATH } from '../src/render/etcd.js';
import { etcdctl, killMembers, LoopbackNet, startMember, tail, waitUntil, type ClientCert, type RunningMember } from './etcd-live.js';
import { cleanup, compileDoc, generateAndUnpack, modelOf, NAMESPACES, runCli, tempDir, testNeeding, text } from './helpers.js';

const member = (name: string, address: string) => ({ name, address, roles: ['etcd'] });
const inventory = (members: ReturnType<typeof member>[], initialClusterState: 'new' | 'existing') => ({
  cluster: { kubernetesVersion: '1.34.2', podSubnet: '10.244.0.0/16' },
  etcd: { install: 'distro', initialClusterState },
  hosts: [{ name: 'cp1', address: '127.0.2.1', roles: ['control-plane'] }, ...members],
});

testNeeding(
  ['etcd', 'etcdctl', NAMESPACES],
  'LIVE: an etcd member is replaced: removed, a new host joins with its generated member-add script, data is kept',
  async () => {
    const dir = tempDir();
    const running: RunningMember[] = [];
    let net: LoopbackNet | undefined;
    let gen: Awaited<ReturnType<typeof generateAndUnpack>> | undefined;
    try {
      const first = [member('m1', '127.0.1.1'), member('m2', '127.0.1.2'), member('m3', '127.0.1.3')];
      writeFileSync(join(dir, 'inventory.json'), JSON.stringify(inventory(first, 'new')));
      gen = await generateAndUnpack(join(dir, 'inventory.json'));
      net = new LoopbackNet(`kx${process.pid % 100000}`);
      const clientNs = net.add('127.0.2.1');
      const pki = join(gen.unpacked, 'cp1', 'rootfs/etc/kubernetes/pki');
      const client: ClientCert = { ca: join(pki, 'etcd/ca.crt'), cert: join(pki, 'apiserver-etcd-client.crt'), key: join(pki, 'apiserver-etcd-client.key') };
      for (const m of first) running.push(startMember(net, { name: m.name, address: m.address, bundle: join(gen.unpacked, m.name) }, join(dir, 'run')));
      const ep = (...ips: string[]) => ips.map((ip) => `https://${ip}:2379`);
      assert.ok(
        (await waitUntil(() => etcdctl(clientNs, client, ep('127.0.1.1', '127.0.1.2', '127.0.1.3'), ['endpoint', 'health']).status === 0, 30_000)) !== null,
        running.map((m) => tail(m)).join('\n'),
      );
      const put = etcdctl(clientNs, client, ep('127.0.1.1'), ['put', '/kubeha/kept', 'yes']);
      assert.is(put.status, 0, put.out);

      // The operator removes m3 (the guide's step 1), then replaces it by m4 in the inventory with state "existing".
      const list = etcdctl(clientNs, client, ep('127.0.1.1'), ['member', 'list']).out;
      const m3id = list
        .split('\n')
        .find((l) => l.includes(', m3, '))!
        .split(',')[0]!;
      // etcd refuses reconfiguration until every member has been connected for its health interval (5 s): retry.
      let removed = { status: -1, out: '' };
      await waitUntil(
        () => {
          removed = etcdctl(clientNs, client, ep('127.0.1.1'), ['member', 'remove', m3id]);
          return removed.status === 0;
        },
        20_000,
        500,
      );
      assert.is(removed.status, 0, removed.out);
      await killMembers([running[2]!]);
      const second = [first[0]!, first[1]!, member('m4', '127.0.1.4')];
      writeFileSync(join(dir, 'inventory.json'), JSON.stringify(inventory(second, 'existing')));
      const r = await runCli([join(dir, 'inventory.json'), '--out', join(dir, 'out2'), '--secrets', gen.secrets]);
      assert.is(r.code, 0, r.err);
      assert.match(r.out, 'secrets: issued etcd/m4-server.crt');
      const unpacked = join(dir, 'unpacked2');
      mkdirSync(unpacked);
      execFileSync('tar', ['-xzf', join(dir, 'out2', 'm4.tar.gz'), '-C', unpacked]);
      const bundle = join(unpacked, 'm4');
      // What m4's run.sh does in its services phase: the member-add script, then start etcd from the unit.
      const started = Date.now();
      running[2] = startMember(net, { name: 'm4', address: '127.0.1.4', bundle }, join(dir, 'run'), { before: join(bundle, 'rootfs', ETCD_MEMBER_ADD_PATH) });
      const healthy = await waitUntil(() => etcdctl(clientNs, client, ep('127.0.1.1', '127.0.1.2', '127.0.1.4'), ['endpoint', 'health']).status === 0, 30_000);
      assert.ok(healthy !== null, tail(running[2]!, 30));
      console.log(`  etcd replace: m4 added and healthy ${Date.now() - started} ms after its start`);
      const members = etcdctl(clientNs, client, ep('127.0.1.4'), ['member', 'list']).out.trim().split('\n');
      assert.is(members.length, 3);
      assert.ok(
        members.every((l) => l.includes(', started, ')),
        members.join('\n'),
      );
      assert.ok(members.some((l) => l.includes(', m4, https://127.0.1.4:2380, https://127.0.1.4:2379')));
      assert.not.ok(members.some((l) => l.includes('m3')));
      assert.is(
        etcdctl(clientNs, client, ep('127.0.1.4'), ['get', '--print-value-only', '/kubeha/kept']).out.trim(),
        'yes',
        'the new member serves the old data',
      );
    } finally {
      await killMembers(running);
      net?.destroy();
      if (gen) cleanup(gen.dir);
      cleanup(dir);
    }
  },
);

test('members of an "existing" cluster get a member-add script that run.sh calls before the first start', async () => {
  const three = [member('m1', '127.0.1.1'), member('m2', '127.0.1.2'), member('m4', '127.0.1.4')];
  const { hosts } = await compileDoc(inventory(three, 'existing'));
  const path = `rootfs${ETCD_MEMBER_ADD_PATH}`;
  assert.is(hosts.get('m4')!.get(path)!.mode, 0o755);
  assert.not.ok(hosts.get('cp1')!.has(path));
  assert.match(text(hosts, 'm4', path), "'--endpoints=https://127.0.1.1:2379,https://127.0.1.2:2379' ");
  assert.match(text(hosts, 'm4', 'run.sh'), `if [[ ! -d "$ROOT"/var/lib/etcd/member ]]; then\n    run "$ROOT"${ETCD_MEMBER_ADD_PATH}\n  fi`);
  assert.ok(
    text(hosts, 'm4', 'run.sh').indexOf(ETCD_MEMBER_ADD_PATH) < text(hosts, 'm4', 'run.sh').indexOf('systemctl start --no-block etcd.service'),
    'added before it starts',
  );
  const fresh = await compileDoc(inventory(three, 'new'));
  assert.not.ok(fresh.hosts.get('m4')!.has(path), 'a new cluster bootstraps together: no member add');
  assert.throws(() => modelOf(inventory([member('m1', '127.0.1.1')], 'existing')), /"existing" adds members to a running etcd cluster/);
});

testNeeding(['shellcheck'], 'shellcheck -S warning accepts the member-add script', async () => {
  const { hosts } = await compileDoc(inventory([member('m1', '127.0.1.1'), member('m2', '127.0.1.2'), member('m4', '127.0.1.4')], 'existing'));
  const dir = tempDir();
  try {
    writeFileSync(join(dir, 'member-add.sh'), text(hosts, 'm4', `rootfs${ETCD_MEMBER_ADD_PATH}`));
    const sc = spawnSync('shellcheck', ['-S', 'warning', join(dir, 'member-add.sh')], { encoding: 'utf8' });
    assert.is(sc.status, 0, sc.stdout);
  } finally {
    cleanup(dir);
  }
});

test.run();
