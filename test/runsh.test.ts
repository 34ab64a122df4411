/**
 * run.sh as a program: shellcheck over the bundles of several clusters (every role, both runtimes), then the real script of
 * an example cluster: --dry-run, --root DIR --only files (twice), a tampered bundle, and bad arguments.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, compileDoc, generateAndUnpack, NAMESPACES, REPO, tempDir, testNeeding, type InventoryDoc } from './helpers.js';

function cluster(runtime: string, version: string, proxy: string, backend = 'vxlan'): InventoryDoc {
  return {
    cluster: {
      name: `sh-${runtime}`,
      kubernetesVersion: version,
      podSubnet: '10.244.0.0/16',
      serviceSubnet: '10.96.0.0/16',
      containerRuntime: runtime,
      kubeProxyMode: proxy,
      cni: { backend },
    },
    loadBalancer: { vip: '127.0.1.100', port: 16443, dnsName: 'api.example.test' },
    hosts: [
      { name: 'cp1', address: '127.0.1.1', roles: ['control-plane', 'loadbalancer'] },
      { name: 'cp2', address: '127.0.1.2', roles: ['control-plane', 'loadbalancer', 'etcd'] },
      { name: 'lb3', address: '127.0.1.3', roles: ['loadbalancer'] },
      { name: 'etcd1', address: '127.0.1.4', roles: ['etcd'] },
      { name: 'etcd2', address: '127.0.1.5', roles: ['etcd'] },
      { name: 'w1', address: '127.0.1.6', roles: ['worker'] },
      { name: 'w2', address: '127.0.1.7', roles: ['worker', 'etcd'] },
    ],
  };
}

const CLUSTERS = [
  cluster('containerd', '1.34.2', 'ipvs'),
  cluster('docker', '1.34.2', 'nftables', 'wireguard'),
  cluster('containerd', '1.30.6', 'iptables', 'host-gw'),
  cluster('docker', '1.28.15', 'ipvs'),
];

testNeeding(['shellcheck'], 'shellcheck -S warning accepts every run.sh of four clusters (all roles, both runtimes, three proxy modes)', async () => {
  const dir = tempDir();
  try {
    const files: string[] = [];
    for (const [i, doc] of CLUSTERS.entries()) {
      const { hosts } = await compileDoc(doc);
      for (const [name, bundle] of hosts) {
        const path = join(dir, `${i}-${name}.sh`);
        writeFileSync(path, bundle.get('run.sh')!.bytes);
        files.push(path);
      }
    }
    assert.is(files.length, 28);
    const started = Date.now();
    const result = spawnSync('shellcheck', ['-S', 'warning', ...files], { encoding: 'utf8' });
    assert.is(result.status, 0, result.stdout + result.stderr);
    console.log(`  shellcheck of ${files.length} run.sh: ${Date.now() - started} ms`);
  } finally {
    cleanup(dir);
  }
});

test('no run.sh stops reading a pipe early: under pipefail the writer would die of SIGPIPE and fail the condition', async () => {
  // `cmd | grep -q X` (or grep -m N) exits at the first match; when cmd writes more than a pipe holds, cmd then gets
  // SIGPIPE and pipefail turns the match into a failure (found by e2e:cluster: the host check on a node with pods).
  const early = /\|\s*grep\s+(-[A-Za-z]*q[A-Za-z]*|(-[A-Za-z]+\s+)*-m\s*\d)/;
  let checked = 0;
  for (const doc of CLUSTERS) {
    const { hosts } = await compileDoc(doc);
    for (const [name, bundle] of hosts) {
      const lines = bundle.get('run.sh')!.bytes.toString('utf8').split('\n');
      const bad = lines.filter((l) => early.test(l) && !l.trimStart().startsWith('#'));
      assert.equal(bad, [], `${name}`);
      checked++;
    }
  }
  assert.is(checked, 28);
});

testNeeding([NAMESPACES], "the host check finds its address among thousands (ip's output larger than a pipe holds)", async () => {
  const gen = await generateAndUnpack(join(REPO, 'examples', 'runbook.json'));
  try {
    const { runInSandbox } = await import('./sandbox.js');
    // The bundle's own address first, then 3000 more on lo: about 250 KB of `ip -4 -o addr show`, which cannot sit in a
    // 64 KB pipe when grep stops reading at the first line.
    const many = 'for i in $(seq 1 3000); do echo "address add 10.77.$((i / 250)).$((i % 250 + 1))/32 dev lo"; done | ip -batch -';
    const r = runInSandbox(join(gen.unpacked, 'ceph1'), '172.21.16.14', ['--only', 'preflight'], { before: [many] });
    assert.is(r.code, 0, r.out + r.err);
    assert.not.match(r.err, 'this machine does not have');
  } finally {
    cleanup(gen.dir);
  }
});

/** Runs a bundle's run.sh; returns status and output. */
function runSh(bundle: string, args: string[]) {
  const r = spawnSync(join(bundle, 'run.sh'), args, { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Every file under rootfs/ of a bundle, as target paths. */
function rootfsFiles(bundle: string, dir = ''): string[] {
  return readdirSync(join(bundle, 'rootfs', dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? rootfsFiles(bundle, join(dir, e.name)) : [`/${join(dir, e.name)}`],
  );
}

const lastLine = (out: string) => out.trimEnd().split('\n').pop() ?? '';
const mode = (path: string) => statSync(path).mode & 0o777;

test('run.sh of the example cluster: --dry-run, --root --only files (twice), tampering, bad arguments', async () => {
  const gen = await generateAndUnpack(join(REPO, 'examples', 'runbook.json'));
  const root = tempDir('kubeha-root-');
  try {
    const init = join(gen.unpacked, 'worker1');
    const joiner = join(gen.unpacked, 'worker2');
    const untouched = ['/etc/kubernetes', '/etc/containerd/config.toml', '/var/log/kubeha'].map((p) => [p, existsSync(p)] as const);

    // --dry-run prints every action of every phase and changes nothing.
    let started = Date.now();
    const dry = runSh(init, ['--dry-run']);
    const dryMs = Date.now() - started;
    assert.is(dry.code, 0, dry.err);
    for (const line of [
      '+ install -m 0600 /etc/kubernetes/kubeadm-config.yaml',
      '+ install -m 0600 /etc/kubernetes/pki/ca.key',
      '+ install -m 0644 /etc/kubernetes/addons/kube-flannel.yml',
      '+ install -m 0644 /etc/containerd/config.toml',
      '+ kubeadm init --config /etc/kubernetes/kubeadm-config.yaml',
      '+ kubectl --kubeconfig /etc/kubernetes/admin.conf apply -f /etc/kubernetes/addons/kube-flannel.yml',
      '+ wait up to 300s for the etcd cluster to have quorum (members: ceph1 https://172.21.16.14:2379, ceph2 https://172.21.16.6:2379, ceph3 https://172.21.16.13:2379; run their bundles first)',
    ])
      assert.ok(dry.out.includes(line), `dry-run lacks: ${line}\n${dry.out}`);
    for (const phase of ['preflight', 'os', 'packages', 'files', 'services', 'kubeadm', 'addons']) assert.match(dry.out, `phase ${phase}`);
    // The last line tells Ansible (changed_when) how many changes the run made, or under --dry-run would make.
    assert.match(lastLine(dry.out), /^kubeha: changed=[1-9][0-9]*$/);
    const dryJoin = runSh(joiner, ['--dry-run', '--only', 'kubeadm']);
    assert.is(dryJoin.code, 0, dryJoin.err);
    assert.match(dryJoin.out, '+ wait up to 900s for the API server at https://10.0.8.100:16443 (run the bundle of worker1, the first control plane, first)');
    assert.match(dryJoin.out, '+ kubeadm join --config /etc/kubernetes/kubeadm-config.yaml');
    assert.not.match(dryJoin.out, 'kubeadm init');
    for (const [p, existed] of untouched) assert.is(existsSync(p), existed, `--dry-run changed ${p}`);

    // --root DIR --only files installs every bundle file with its mode and content.
    started = Date.now();
    const first = runSh(init, ['--root', root, '--only', 'files']);
    const filesMs = Date.now() - started;
    assert.is(first.code, 0, first.err);
    const targets = rootfsFiles(init);
    assert.ok(targets.includes('/etc/kubernetes/kubeadm-config.yaml') && targets.length >= 15, targets.join(' '));
    for (const target of targets) {
      const installed = join(root, target);
      assert.ok(readFileSync(installed).equals(readFileSync(join(init, 'rootfs', target))), `content of ${target}`);
      assert.is(mode(installed), mode(join(init, 'rootfs', target)), `mode of ${target}`);
      assert.match(first.out, `installed ${target} (`);
      if (target.endsWith('.key') || target.endsWith('kubeadm-config.yaml')) assert.is(mode(installed), 0o600, target);
    }
    assert.is(mode(join(root, '/etc/keepalived/check_haproxy.sh')), 0o755);
    // One change per file installed: the bundle's files, and what run.sh writes itself (keepalived's interface).
    assert.ok(first.out.includes('installed /etc/keepalived/kubeha-interface.conf ('), first.out);
    assert.is(lastLine(first.out), `kubeha: changed=${targets.length + 1}`, 'one change per installed file');

    // A second run changes nothing.
    const mtimes = targets.map((t) => statSync(join(root, t)).mtimeMs);
    const second = runSh(init, ['--root', root, '--only', 'files']);
    assert.is(second.code, 0, second.err);
    assert.not.match(second.out, 'installed ');
    assert.is(lastLine(second.out), 'kubeha: changed=0');
    assert.equal(
      targets.map((t) => statSync(join(root, t)).mtimeMs),
      mtimes,
    );

    // A file whose content is right but whose mode is not (a key made readable by hand) is installed again, 0600.
    chmodSync(join(root, '/etc/kubernetes/pki/ca.key'), 0o644);
    const third = runSh(init, ['--root', root, '--only', 'files']);
    assert.is(third.code, 0, third.err);
    assert.is(mode(join(root, '/etc/kubernetes/pki/ca.key')), 0o600);
    assert.match(third.out, 'installed /etc/kubernetes/pki/ca.key (0600)');
    assert.is(lastLine(third.out), 'kubeha: changed=1');

    // Unknown phases and arguments are usage errors (exit 2); --root without --only files too.
    for (const args of [['--only', 'bogus'], ['--frobnicate'], ['--root'], ['--root', root]]) {
      const r = runSh(init, args);
      assert.is(r.code, 2, `${args.join(' ')}: ${r.out}${r.err}`);
    }
    assert.match(runSh(init, ['--only', 'bogus']).err, 'unknown phase bogus');

    // A tampered bundle file makes run.sh refuse before doing anything.
    const tampered = join(gen.dir, 'tampered');
    mkdirSync(tampered);
    cpSync(init, tampered, { recursive: true });
    appendFileSync(join(tampered, 'rootfs/etc/kubernetes/kubeadm-config.yaml'), '# edited\n');
    const refused = runSh(tampered, ['--dry-run']);
    assert.is(refused.code, 1);
    assert.match(refused.err, 'does not match its SHA256SUMS');
    assert.not.match(refused.out, '+ install');
    console.log(`  run.sh --dry-run: ${dryMs} ms; --root --only files: ${filesMs} ms`);
  } finally {
    cleanup(root);
    cleanup(gen.dir);
  }
});

testNeeding([NAMESPACES], '--dry-run works on any machine: an unsupported OS is a warning there, and the Debian-family actions are shown', async () => {
  const gen = await generateAndUnpack(join(REPO, 'examples', 'runbook.json'));
  try {
    const fake = join(gen.dir, 'os-release');
    writeFileSync(fake, 'ID=alpine\nNAME="Alpine Linux"\n');
    const script = join(gen.unpacked, 'worker2', 'run.sh');
    const r = spawnSync('unshare', ['-m', 'sh', '-c', `mount --make-rprivate / && mount --bind '${fake}' /etc/os-release && bash '${script}' --dry-run`], {
      encoding: 'utf8',
    });
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stderr, 'warning: unsupported OS (alpine): showing what a Debian-like host would do');
    assert.match(r.stderr, 'warning: this machine does not have 10.0.8.12: this bundle is for worker2');
    assert.match(r.stdout, '+ apt-get update');
  } finally {
    cleanup(gen.dir);
  }
});

test.run();
