/** etcd metrics for kube-prometheus, live: the generated units serve them, the generated nftables filter keeps them to the cluster. */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ETCD_METRICS_FILTER_PATHS } from '../src/render/etcd-metrics.js';
import { backupCluster } from './etcd-backup-cluster.js';
import { etcdctl, killMembers, LoopbackNet, startMember, tail, waitUntil, type ClientCert, type RunningMember } from './etcd-live.js';
import { cleanup, generateAndUnpack, modelOf, tempDir, NAMESPACES, testNeeding } from './helpers.js';

testNeeding(
  ['etcd', 'etcdctl', 'nft', 'curl', NAMESPACES],
  "LIVE: members serve /metrics on etcd.metricsPort to the cluster's hosts; the filter drops anyone else",
  async () => {
    const dir = tempDir();
    const running: RunningMember[] = [];
    let net: LoopbackNet | undefined;
    let genDir: string | undefined;
    try {
      const doc = { ...backupCluster({ install: 'distro' }), addons: { kubePrometheus: { enabled: true, sha256: '0'.repeat(64) } } };
      const model = modelOf(doc);
      writeFileSync(join(dir, 'inventory.json'), JSON.stringify(doc));
      const gen = await generateAndUnpack(join(dir, 'inventory.json'));
      genDir = gen.dir;
      net = new LoopbackNet(`km${process.pid % 100000}`);
      const host = net.add('127.0.2.1');
      const stranger = net.add('127.0.3.1');
      // m1 and m2 load their generated filter first, as run.sh does before etcd starts; m3 does not (the control).
      for (const [i, m] of model.etcd.members.entries()) {
        const bundle = join(gen.unpacked, m.name);
        const before = i < 2 ? `nft -f ${join(bundle, 'rootfs', ETCD_METRICS_FILTER_PATHS.rules)}` : undefined;
        running.push(startMember(net, { name: m.name, address: m.address, bundle }, join(dir, 'run'), { before }));
      }
      const cpPki = join(gen.unpacked, 'cp1', 'rootfs/etc/kubernetes/pki');
      const client: ClientCert = {
        ca: join(cpPki, 'etcd/ca.crt'),
        cert: join(cpPki, 'apiserver-etcd-client.crt'),
        key: join(cpPki, 'apiserver-etcd-client.key'),
      };
      const healthy = await waitUntil(() => etcdctl(host, client, model.etcd.clientEndpoints, ['endpoint', 'health']).status === 0, 30_000);
      assert.ok(healthy !== null, running.map((m) => tail(m)).join('\n'));
      const scrape = (ns: string, address: string) =>
        spawnSync('ip', ['netns', 'exec', ns, 'curl', '-s', '--max-time', '2', `http://${address}:${model.etcd.metricsPort}/metrics`], { encoding: 'utf8' });
      for (const m of model.etcd.members) {
        const r = scrape(host, m.address);
        assert.is(r.status, 0, `${m.name} from a cluster host: ${r.stderr}`);
        assert.match(r.stdout, /^etcd_server_has_leader 1$/m);
      }
      const started = Date.now();
      for (const m of model.etcd.members.slice(0, 2))
        assert.is(scrape(stranger, m.address).status, 28, `${m.name} must not answer 127.0.3.1 (curl 28: timed out, the packets are dropped)`);
      const open = scrape(stranger, model.etcd.members[2]!.address);
      assert.is(open.status, 0, 'without the filter the stranger gets through: the filter is what stops it');
      console.log(
        `  etcd metrics: served to 127.0.2.1 by all three members; 127.0.3.1 dropped by the filter of m1 and m2 (${Date.now() - started} ms), served by m3 without it`,
      );
      // The client port keeps mutual TLS: no plain HTTP there.
      assert.is.not(
        spawnSync('ip', ['netns', 'exec', host, 'curl', '-sf', '--max-time', '2', `http://${model.etcd.members[0]!.address}:${model.etcd.clientPort}/metrics`])
          .status,
        0,
      );
    } finally {
      await killMembers(running);
      net?.destroy();
      if (genDir) cleanup(genDir);
      cleanup(dir);
    }
  },
);

test.run();
