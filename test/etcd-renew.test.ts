import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fingerprint } from '../src/pki/inspect.js';
import { etcdctl, killMembers, LoopbackNet, startMember, tail, waitUntil, type ClientCert, type RunningMember } from './etcd-live.js';
import { cleanup, generateAndUnpack, NAMESPACES, runCli, tempDir, testNeeding } from './helpers.js';

/** Three etcd members and a control plane on loopback addresses, leaves valid 20 days (so renew --within 30 renews them). */
const inventory = {
  cluster: { kubernetesVersion: '1.34.2', podSubnet: '10.244.0.0/16', certificates: { leafValidityDays: 20 } },
  etcd: { install: 'distro' },
  hosts: [
    { name: 'cp1', address: '127.0.2.1', roles: ['control-plane'] },
    { name: 'm1', address: '127.0.1.1', roles: ['etcd'] },
    { name: 'm2', address: '127.0.1.2', roles: ['etcd'] },
    { name: 'm3', address: '127.0.1.3', roles: ['etcd'] },
  ],
};
const endpoints = ['https://127.0.1.1:2379', 'https://127.0.1.2:2379', 'https://127.0.1.3:2379'];

const clientOf = (unpacked: string): ClientCert => {
  const pki = join(unpacked, 'cp1', 'rootfs/etc/kubernetes/pki');
  return { ca: join(pki, 'etcd/ca.crt'), cert: join(pki, 'apiserver-etcd-client.crt'), key: join(pki, 'apiserver-etcd-client.key') };
};

/** The SHA-256 fingerprint of the certificate a TLS server presents, seen from a namespace. */
function servedFingerprint(ns: string, address: string, client: ClientCert): string {
  const pem = execFileSync(
    'sh',
    [
      '-c',
      `ip netns exec ${ns} openssl s_client -connect ${address}:2379 -CAfile '${client.ca}' -cert '${client.cert}' -key '${client.key}' </dev/null 2>/dev/null | openssl x509`,
    ],
    { encoding: 'utf8' },
  );
  return fingerprint(pem);
}

testNeeding(
  ['etcd', 'etcdctl', 'openssl', NAMESPACES],
  'LIVE: after gen certs renew and gen, a member restarted with its renewed certificates rejoins and serves; CAs unchanged',
  async () => {
    const dir = tempDir();
    const running: RunningMember[] = [];
    let net: LoopbackNet | undefined;
    let gen: Awaited<ReturnType<typeof generateAndUnpack>> | undefined;
    try {
      writeFileSync(join(dir, 'inventory.json'), JSON.stringify(inventory));
      gen = await generateAndUnpack(join(dir, 'inventory.json'));
      net = new LoopbackNet(`kr${process.pid % 100000}`);
      const clientNs = net.add('127.0.2.1');
      const oldClient = clientOf(gen.unpacked);
      const members = ['m1', 'm2', 'm3'].map((name, i) => ({ name, address: `127.0.1.${i + 1}`, bundle: join(gen!.unpacked, name) }));
      for (const m of members) running.push(startMember(net, m, join(dir, 'run')));
      const healthy = (client: ClientCert) => etcdctl(clientNs, client, endpoints, ['endpoint', 'health']).status === 0;
      assert.ok((await waitUntil(() => healthy(oldClient), 30_000)) !== null, running.map((m) => tail(m)).join('\n'));
      assert.is(etcdctl(clientNs, oldClient, [endpoints[0]!], ['put', '/kubeha/before', 'renewal']).status, 0);

      const caBefore = readFileSync(join(gen.secrets, 'etcd', 'ca.crt'));
      const renew = await runCli(['certs', 'renew', '--within', '30', '--secrets', gen.secrets]);
      assert.is(renew.code, 0, renew.err);
      assert.match(renew.out, 'renewed etcd/m2-server.crt');
      assert.ok(readFileSync(join(gen.secrets, 'etcd', 'ca.crt')).equals(caBefore), 'the etcd CA is unchanged');
      const out2 = join(dir, 'out2');
      assert.is((await runCli([join(dir, 'inventory.json'), '--out', out2, '--secrets', gen.secrets, '--quiet'])).code, 0);
      const unpacked2 = join(dir, 'unpacked2');
      mkdirSync(unpacked2);
      for (const host of ['m2', 'cp1']) execFileSync('tar', ['-xzf', join(out2, `${host}.tar.gz`), '-C', unpacked2]);
      const newServer = readFileSync(join(unpacked2, 'm2', 'rootfs/etc/etcd/pki/server.crt'), 'utf8');
      const oldServer = readFileSync(join(gen.unpacked, 'm2', 'rootfs/etc/etcd/pki/server.crt'), 'utf8');
      assert.is.not(fingerprint(newServer), fingerprint(oldServer), 'the bundle carries a renewed certificate');

      // What run.sh does on m2: install the new files, restart etcd (data dir kept).
      const m2 = running[1]!;
      await killMembers([m2]);
      net.remove(m2.ns);
      const restarted = startMember(net, { name: 'm2', address: '127.0.1.2', bundle: join(unpacked2, 'm2') }, join(dir, 'run'));
      running[1] = restarted;
      const newClient = clientOf(unpacked2);
      const took = await waitUntil(() => healthy(newClient) && healthy(oldClient), 30_000);
      assert.ok(took !== null, `not healthy after the renewal:\n${tail(restarted)}`);
      console.log(`  etcd renewal: member m2 healthy again ${took} ms after its restart with renewed certificates`);
      assert.is(servedFingerprint(clientNs, '127.0.1.2', newClient), fingerprint(newServer), 'm2 serves its renewed certificate');
      const list = etcdctl(clientNs, newClient, [endpoints[1]!], ['member', 'list']);
      assert.is(list.out.trim().split('\n').length, 3, list.out);
      const got = etcdctl(clientNs, newClient, [endpoints[1]!], ['get', '--print-value-only', '/kubeha/before']);
      assert.is(got.out.trim(), 'renewal', 'data written before the renewal is served by the renewed member');
      assert.is(etcdctl(clientNs, newClient, [endpoints[1]!], ['put', '/kubeha/after', 'ok']).status, 0);
      const fromPeer = spawnSync(
        'ip',
        [
          'netns',
          'exec',
          clientNs,
          'etcdctl',
          `--endpoints=${endpoints[2]}`,
          `--cacert=${oldClient.ca}`,
          `--cert=${oldClient.cert}`,
          `--key=${oldClient.key}`,
          'get',
          '--print-value-only',
          '/kubeha/after',
        ],
        { encoding: 'utf8' },
      );
      assert.is(fromPeer.stdout.trim(), 'ok', 'peers replicate with the renewed member');
    } finally {
      await killMembers(running);
      net?.destroy();
      if (gen) cleanup(gen.dir);
      cleanup(dir);
    }
  },
);

test.run();
