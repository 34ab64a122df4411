/** Hostile or careless input (issue 11, items 11-13): paths, JSON quirks, huge inputs, values that are valid syntax but wrong. */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateInventory, formatProblem } from '../src/inventory/index.js';
import { MAX_INVENTORY_BYTES, readInventoryText } from '../src/cli/inventory-file.js';
import { cleanup, REPO, tempDir, type InventoryDoc } from './helpers.js';

const BIN = join(REPO, 'dist', 'src', 'cli', 'bin.js');
const RUNBOOK_TEXT = readFileSync(join(REPO, 'examples', 'runbook.json'), 'utf8');
const runbook = (): InventoryDoc => JSON.parse(RUNBOOK_TEXT);

/** The error lines of an inventory changed by `change`, as `POINTER: message`. */
function errorsOf(change: (doc: InventoryDoc) => void): string[] {
  const doc = runbook();
  change(doc);
  const result = validateInventory('inventory.json', JSON.stringify(doc, null, 2));
  return result.errors.map((p) => `${p.pointer}: ${p.message}`);
}

test('etcd.dataDir: system folders are refused however the path is written, and so are their parents and insides', () => {
  const refused = [
    '/etc/.',
    '/./etc',
    '/var/lib/etcd/..',
    '/var/log',
    '/usr/local',
    '/etc/kubernetes/pki',
    '/..',
    '/var/lib/./../lib',
    '/tmp/etcd',
    '/run/etcd',
    '/usr/share/etcd',
    '/var/log/etcd',
    '/var/lib/kubelet/etcd',
    '/etc/etcd',
    '/srv/./etcd',
    '/srv/etcd/.',
  ];
  for (const dataDir of refused) {
    const errors = errorsOf((d) => {
      d.etcd = { dataDir };
    });
    assert.is(errors.length, 1, `${dataDir}: ${errors.join('; ')}`);
    assert.ok(errors[0]!.startsWith(`/etcd/dataDir: ${dataDir} `), errors[0]);
  }
  assert.equal(
    errorsOf((d) => {
      d.etcd = { dataDir: '/var/lib/etcd/..' };
    }),
    ['/etcd/dataDir: /var/lib/etcd/.. (that is /var/lib) is a system directory: use a directory of its own such as /var/lib/etcd'],
  );
  assert.equal(
    errorsOf((d) => {
      d.etcd = { dataDir: '/srv/./etcd' };
    }),
    ['/etcd/dataDir: /srv/./etcd is not written plainly: write /srv/etcd'],
  );
  // The snapshot folder moves out of the way: /var/backups/etcd is its default, and the two must not overlap.
  for (const dataDir of [
    '/var/lib/etcd',
    '/var/lib/etcd-main',
    '/srv/etcd',
    '/data/etcd',
    '/mnt/disk1/etcd',
    '/opt/etcd/data',
    '/var/backups/etcd',
    '/var/opt/etcd',
  ]) {
    assert.equal(
      errorsOf((d) => {
        d.etcd = { dataDir, backup: { dir: '/backup/etcd' } };
      }),
      [],
      dataDir,
    );
  }
});

test('JSON: a byte order mark is accepted as in YAML, and lines stay right', () => {
  const bom = validateInventory('inventory.json', '\uFEFF' + RUNBOOK_TEXT);
  assert.equal(bom.errors, []);
  assert.equal(bom.inventory, validateInventory('inventory.json', RUNBOOK_TEXT).inventory);
  const yaml = validateInventory(
    'inventory.yaml',
    '\uFEFFcluster:\n  kubernetesVersion: "1.34.2"\n  podSubnet: 10.244.0.0/16\nhosts:\n  - { name: a, address: 10.0.0.1, roles: [control-plane, etcd] }\n',
  );
  assert.equal(yaml.errors, []);
  const broken = validateInventory('inventory.json', '\uFEFF' + RUNBOOK_TEXT.replace('"10.0.8.12"', '"10.0.8.300"'));
  assert.equal(
    broken.errors.map((p) => formatProblem('inventory.json', p)),
    ['inventory.json /hosts/1/address: must match format "ipv4" (line 11)'],
  );
});

test('JSON: every duplicate key is refused with its pointer and line, at any depth', () => {
  const text =
    '{"cluster": {"kubernetesVersion": "1.34.2", "podSubnet": "10.244.0.0/16"},\n "hosts": [{"name": "a", "address": "10.0.0.1", "roles": ["control-plane", "etcd"],\n "roles": ["etcd"]}],\n "etcd": {"dataDir": "/srv/a", "data\\u0044ir": "/"}}';
  const result = validateInventory('inventory.json', text);
  assert.is(result.inventory, null);
  assert.equal(
    result.errors.map((p) => formatProblem('inventory.json', p)),
    [
      'inventory.json /hosts/0/roles: duplicate key "roles" (first on line 2; JSON would keep only the last) (line 3)',
      'inventory.json /etcd/dataDir: duplicate key "dataDir" (first on line 4; JSON would keep only the last) (line 4)',
    ],
  );
  // The same keys in different objects, and keys that only look alike, are fine.
  const fine = validateInventory(
    'inventory.json',
    '{"cluster": {"kubernetesVersion": "1.34.2", "podSubnet": "10.244.0.0/16"}, "hosts": [{"name": "a", "address": "10.0.0.1", "roles": ["control-plane", "etcd"]}, {"name": "b", "address": "10.0.0.2", "roles": ["worker"]}]}',
  );
  assert.equal(fine.errors, []);
});

test('JSON nested 5000 deep is a clear error, not a stack trace; 100 levels is the limit as in YAML', () => {
  const nested = (depth: number) =>
    `{"cluster": {"kubernetesVersion": "1.34.2", "podSubnet": "10.244.0.0/16"}, "hosts": [], "x": ${'['.repeat(depth)}${']'.repeat(depth)}}`;
  const deep = validateInventory('inventory.json', nested(5000));
  assert.equal(
    deep.errors.map((p) => p.message),
    ['invalid JSON: nested deeper than 100 levels'],
  );
  // 99 levels under the top object: the schema, not the depth check, answers (an unknown key and empty hosts).
  assert.equal(
    validateInventory('inventory.json', nested(99)).errors.map((p) => p.pointer),
    ['/x', '/hosts'],
  );
  assert.equal(
    validateInventory('inventory.json', nested(100)).errors.map((p) => p.message),
    ['invalid JSON: nested deeper than 100 levels'],
  );
});

test('gen validate /dev/zero and an oversized file end at once with a clear error (bounded read)', () => {
  const dir = tempDir();
  try {
    const big = join(dir, 'big.yaml');
    writeFileSync(big, '#'.repeat(MAX_INVENTORY_BYTES + 1));
    for (const file of ['/dev/zero', big]) {
      const started = Date.now();
      const r = spawnSync('node', [BIN, 'validate', file], { encoding: 'utf8', timeout: 30_000 });
      assert.is(r.signal, null, `${file}: killed after ${Date.now() - started} ms`);
      assert.is(r.status, 1, r.stderr);
      assert.is(r.stderr, `${file}: larger than 4 MiB: not an inventory (kubeha reads at most 4194304 bytes)\n`);
    }
    writeFileSync(big, RUNBOOK_TEXT + ' '.repeat(MAX_INVENTORY_BYTES - Buffer.byteLength(RUNBOOK_TEXT)));
    const atLimit = spawnSync('node', [BIN, 'validate', big], { encoding: 'utf8', timeout: 30_000 });
    assert.is(atLimit.status, 0, atLimit.stderr);
  } finally {
    cleanup(dir);
  }
});

test('a bootstrap token that never expires is refused in every spelling of zero', () => {
  for (const ttl of ['0s', '0h0m0s', '0m', '00h']) {
    assert.equal(
      errorsOf((d) => {
        d.cluster.bootstrapTokenTTL = ttl;
      }).length,
      1,
      ttl,
    );
  }
  for (const ttl of ['1s', '24h0m0s', '0h1m'])
    assert.equal(
      errorsOf((d) => {
        d.cluster.bootstrapTokenTTL = ttl;
      }),
      [],
      ttl,
    );
});

test('leaf certificates may not outlive their CA', () => {
  assert.equal(
    errorsOf((d) => {
      d.cluster.certificates = { caValidityDays: 365, leafValidityDays: 366 };
    }),
    ["/cluster/certificates/leafValidityDays: 366 days is longer than the CAs' 365 days (caValidityDays): a certificate cannot outlive the CA that signs it"],
  );
  assert.equal(
    errorsOf((d) => {
      d.cluster.certificates = { caValidityDays: 365, leafValidityDays: 365 };
    }),
    [],
  );
});

test('127.0.0.1, unspecified, broadcast, multicast and reserved addresses are refused as VIP and host address; other loopbacks are not', () => {
  for (const address of ['127.0.0.1', '0.0.0.0', '0.1.2.3', '255.255.255.255', '224.0.0.18', '239.1.1.1', '240.0.0.1']) {
    const vip = errorsOf((d) => {
      d.loadBalancer.vip = address;
    });
    assert.equal(vip.length, 1, `${address}: ${vip.join('; ')}`);
    assert.ok(vip[0]!.startsWith(`/loadBalancer/vip: ${address} is `), vip[0]);
    const host = errorsOf((d) => {
      d.hosts[2].address = address;
    });
    assert.ok(host[0]!.startsWith(`/hosts/2/address: ${address} is `), host[0]);
  }
  // The network address of the pod or service range lies inside that range: refused as such.
  assert.equal(
    errorsOf((d) => {
      d.loadBalancer.vip = '10.97.0.0';
    }),
    ['/loadBalancer/vip: 10.97.0.0 lies inside the pod subnet 10.97.0.0/16'],
  );
  assert.equal(
    errorsOf((d) => {
      d.hosts[2].address = '10.96.0.0';
    }),
    ['/hosts/2/address: 10.96.0.0 lies inside the service subnet 10.96.0.0/16'],
  );
  // Without the hosts' netmask, .0 and .255 can be ordinary addresses (in a /16, say); loopbacks other than 127.0.0.1 serve tests.
  for (const address of ['10.0.1.0', '10.0.0.255', '127.0.1.1', '127.0.0.2']) {
    assert.equal(
      errorsOf((d) => {
        d.loadBalancer.vip = address;
      }),
      [],
      address,
    );
    assert.equal(
      errorsOf((d) => {
        d.hosts[2].address = address;
      }),
      [],
      address,
    );
  }
});

test('an IP address is no DNS name: dnsName, dnsDomain and host names', () => {
  assert.equal(
    errorsOf((d) => {
      d.loadBalancer.dnsName = '10.0.8.100';
    }).length,
    1,
  );
  assert.equal(
    errorsOf((d) => {
      d.cluster.dnsDomain = '10.0.0.1';
    }).length,
    1,
  );
  assert.equal(
    errorsOf((d) => {
      d.hosts[0].name = '10.0.8.6';
    }).length,
    1,
  );
  assert.equal(
    errorsOf((d) => {
      d.hosts[0].name = '123';
    }).length,
    1,
  );
  for (const name of ['api.example.com', 'k8s-1.example', '1api.example.com', 'node1']) {
    assert.equal(
      errorsOf((d) => {
        d.loadBalancer.dnsName = name;
        d.hosts[0].name = name;
      }),
      [],
      name,
    );
  }
});

test("haproxy and etcd ports cannot take sshd's port 22, local kubelet/kube-proxy ports, or the NodePort range on nodes", () => {
  assert.equal(
    errorsOf((d) => {
      d.loadBalancer.port = 22;
    }),
    ['/loadBalancer/port: port 22 is used by both sshd and haproxy on host "worker1"'],
  );
  assert.equal(
    errorsOf((d) => {
      d.loadBalancer.stats = { port: 10248 };
    }),
    ['/loadBalancer/stats/port: port 10248 is used by both kubelet health (127.0.0.1) and haproxy stats on host "worker1"'],
  );
  assert.equal(
    errorsOf((d) => {
      d.etcd = { clientPort: 22 };
    }),
    ['/etcd/clientPort: port 22 is used by both sshd and etcd clients on host "ceph1"'],
  );
  assert.equal(
    errorsOf((d) => {
      d.loadBalancer.port = 30443;
    }),
    [
      '/loadBalancer/port: port 30443 (haproxy) lies in the NodePort range 30000-32767, which kube-proxy gives to services on every Kubernetes node: choose a port outside it',
    ],
  );
  // The range's own ends are in it; the ports just outside are not.
  for (const port of [30000, 32767])
    assert.equal(
      errorsOf((d) => {
        d.loadBalancer.port = port;
      }).length,
      1,
      `port ${port}`,
    );
  for (const port of [29999, 32768])
    assert.equal(
      errorsOf((d) => {
        d.loadBalancer.port = port;
      }),
      [],
      `port ${port}`,
    );
  // A load balancer that is no Kubernetes node may use any free port.
  assert.equal(
    errorsOf((d) => {
      d.loadBalancer.port = 30443;
      d.hosts[0].roles = ['control-plane'];
      d.hosts[1].roles = ['control-plane'];
      d.hosts.push({ name: 'lb1', address: '10.0.8.20', roles: ['loadbalancer'] }, { name: 'lb2', address: '10.0.8.21', roles: ['loadbalancer'] });
    }),
    [],
  );
});

test('a registry port must be 1 to 65535, like every port', () => {
  for (const repo of ['mirror.example.com:65536/k8s', 'mirror.example.com:70000', 'mirror.example.com:0/k8s', 'mirror.example.com:99999']) {
    assert.equal(
      errorsOf((d) => {
        d.cluster.imageRepository = repo;
      }).length,
      1,
      repo,
    );
  }
  for (const repo of ['mirror.example.com:65535/k8s', 'mirror.example.com:5000', 'mirror.example.com:1/a/b']) {
    assert.equal(
      errorsOf((d) => {
        d.cluster.imageRepository = repo;
      }),
      [],
      repo,
    );
  }
  assert.equal(
    errorsOf((d) => {
      d.loadBalancer.port = 65536;
    }),
    ['/loadBalancer/port: must be <= 65535'],
  );
});

test("host names Ansible reserves (all, ungrouped, localhost) and the rollout's group names are refused at the name, with why", async () => {
  const why = {
    all: '"all" is the group of every host in Ansible: a host of this name in out/ansible/inventory.ini is confused with the group, and the rollout can send another host\'s bundle, keys included, to this address or this bundle to another host; rename the host',
    ungrouped:
      '"ungrouped" is the group of hosts in no other group in Ansible: a host of this name in out/ansible/inventory.ini is confused with the group, and the rollout can send another host\'s bundle, keys included, to this address or this bundle to another host; rename the host',
    localhost:
      '"localhost" is the machine that runs Ansible (its implicit localhost, which tasks delegated to localhost reach): this host\'s bundle, keys included, could be unpacked there; it is no name for a Kubernetes node either; use the host\'s own name',
  };
  for (const [name, message] of Object.entries(why))
    assert.equal(
      errorsOf((d) => {
        d.hosts[3].name = name;
      }),
      [`/hosts/3/name: ${message}`],
    );
  // Names that only contain them are fine.
  for (const name of ['all1', 'localhost2', 'ungrouped-a', 'small', 'localhost.example.com'])
    assert.equal(
      errorsOf((d) => {
        d.hosts[3].name = name;
      }),
      [],
      name,
    );
  // Every group the generated inventory.ini declares is refused as a host name (by the schema or by the rule).
  const dir = tempDir();
  try {
    const file = join(dir, 'inventory.json');
    writeFileSync(file, RUNBOOK_TEXT);
    const r = spawnSync('node', [BIN, file, '--out', join(dir, 'out'), '--secrets', join(dir, 'secrets'), '--quiet'], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    const groups = [...readFileSync(join(dir, 'out', 'ansible', 'inventory.ini'), 'utf8').matchAll(/^\[([^\]:]+)(:vars)?\]$/gm)].map((m) => m[1]!);
    assert.ok(groups.includes('kubeha_step1') && groups.includes('kubeha_etcd') && groups.includes('all'), groups.join(' '));
    for (const group of [...new Set([...groups, 'kubeha_step9', 'kubeha_worker'])])
      assert.ok(
        errorsOf((d) => {
          d.hosts[3].name = group;
        }).some((e) => e.startsWith('/hosts/3/name: ')),
        group,
      );
  } finally {
    cleanup(dir);
  }
});

test("kube-prometheus's node-exporter ports (hostNetwork on every Kubernetes node) collide with the inventory's ports", () => {
  const withAddon = (d: InventoryDoc, version?: string) => {
    d.addons = { kubePrometheus: { enabled: true, sha256: 'a'.repeat(64), ...(version ? { version } : {}) } };
  };
  // kube-rbac-proxy on the node's address :9100 (every release), node_exporter on 127.0.0.1:9101 (v0.15.0 on).
  assert.equal(
    errorsOf((d) => {
      withAddon(d);
      d.loadBalancer.port = 9100;
    }),
    ['/loadBalancer/port: port 9100 is used by both kube-prometheus node-exporter (kube-rbac-proxy, hostNetwork) and haproxy on host "worker1"'],
  );
  assert.equal(
    errorsOf((d) => {
      withAddon(d, '0.16.0');
      d.loadBalancer.stats = { port: 9101 };
    }),
    ['/loadBalancer/stats/port: port 9101 is used by both kube-prometheus node_exporter (127.0.0.1, hostNetwork) and haproxy stats on host "worker1"'],
  );
  // haproxy's metrics bind the host's address, like kube-rbac-proxy; node_exporter's 127.0.0.1:9101 is another socket.
  assert.equal(
    errorsOf((d) => {
      withAddon(d);
      d.loadBalancer.metricsPort = 9100;
    }),
    ['/loadBalancer/metricsPort: port 9100 is used by both kube-prometheus node-exporter (kube-rbac-proxy, hostNetwork) and haproxy metrics on host "worker1"'],
  );
  assert.equal(
    errorsOf((d) => {
      withAddon(d);
      d.loadBalancer.metricsPort = 9101;
    }),
    [],
  );
  // An etcd member that is a Kubernetes node runs node-exporter too; one that is not does not.
  assert.equal(
    errorsOf((d) => {
      withAddon(d);
      d.etcd = { metricsPort: 9100 };
      d.hosts[2].roles = ['etcd', 'worker'];
    }),
    ['/etcd/metricsPort: port 9100 is used by both kube-prometheus node-exporter (kube-rbac-proxy, hostNetwork) and etcd metrics on host "ceph1"'],
  );
  assert.equal(
    errorsOf((d) => {
      withAddon(d);
      d.etcd = { metricsPort: 9100 };
    }),
    [],
  );
  // v0.12.0 to v0.14.0 run node_exporter on 127.0.0.1:9100 beside kube-rbac-proxy: 9101 is free there.
  assert.equal(
    errorsOf((d) => {
      d.cluster.kubernetesVersion = '1.30.4';
      withAddon(d, '0.14.0');
      d.loadBalancer.stats = { port: 9101 };
    }),
    [],
  );
  // Without the addon nothing listens there.
  assert.equal(
    errorsOf((d) => {
      d.loadBalancer.port = 9100;
      d.loadBalancer.stats = { port: 9101 };
    }),
    [],
  );
});

test('etcd.tarballs cannot replace the checksum kubeha pins for an upstream release; an unpinned version or arch, or the same checksum, is fine', () => {
  // SHA-256 of etcd-v3.5.27-linux-amd64.tar.gz from kubespray's checksums.yml (etcd_binary_checksums), which kubeha pins.
  const pinned = '0aad9a9e4e0817a021e933f9806a2b2960a62f949ad5a3d6436d8886945cb1bc';
  const tarball = (sha256: string) => ({ url: 'https://files.example.cn/etcd-v3.5.27-linux-amd64.tar.gz', sha256 });
  assert.equal(
    errorsOf((d) => {
      d.etcd = { version: '3.5.27', tarballs: { amd64: tarball('b'.repeat(64)) } };
    }),
    [
      `/etcd/tarballs/amd64/sha256: etcd v3.5.27 linux-amd64 is an upstream release whose SHA-256 kubeha pins: ${pinned} (github.com/etcd-io/etcd/releases, as kubernetes-sigs/kubespray's checksums.yml lists it); this one differs, so the file is not that release (a wrong copy, a private build under an upstream name, or a tampered download): give the upstream tarball's URL (its pinned checksum is checked) or leave etcd.tarballs out and use mirrors.files`,
    ],
  );
  assert.equal(
    errorsOf((d) => {
      d.etcd = { version: '3.5.27', tarballs: { amd64: tarball(pinned) } };
    }),
    [],
  );
  assert.equal(
    errorsOf((d) => {
      d.etcd = { version: '3.6.5', tarballs: { amd64: tarball('b'.repeat(64)), arm64: tarball('c'.repeat(64)) } };
    }),
    [],
  );
  // With install "distro" the tarballs are not used: only the warning that says so.
  const distro = validateInventory(
    'inventory.json',
    JSON.stringify({ ...runbook(), etcd: { version: '3.5.27', install: 'distro', tarballs: { amd64: tarball('b'.repeat(64)) } } }),
  );
  assert.equal(distro.errors, []);
  assert.equal(
    distro.warnings.map((w) => w.pointer),
    ['/etcd/tarballs'],
  );
});

/** `gen validate FILE` with a bound: status, stderr and how long it took. */
function validateFile(file: string): { status: number | null; stderr: string; ms: number } {
  const started = Date.now();
  const r = spawnSync('node', [BIN, 'validate', file], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stderr: r.stderr, ms: Date.now() - started };
}

test('a named pipe nothing writes to is refused at once; a pipe with a writer is read; a silent writer is waited for, bounded', async () => {
  const dir = tempDir();
  try {
    const fifo = join(dir, 'inventory.yaml');
    spawnSync('mkfifo', [fifo]);
    const r = validateFile(fifo);
    assert.is(r.status, 1, r.stderr);
    assert.is(r.stderr, `${fifo}: a named pipe with nothing writing to it: give a file, or a pipe that has a writer such as <(command)\n`);
    assert.ok(r.ms < 20_000, `${r.ms} ms`);
    // Process substitution: a pipe whose writer takes a moment (a decryption, say) is read to its end.
    const copy = join(dir, 'runbook.json');
    writeFileSync(copy, RUNBOOK_TEXT);
    const piped = spawnSync('bash', ['-c', 'node "$1" validate <(sleep 1; cat "$2")', '_', BIN, copy], { encoding: 'utf8', timeout: 60_000 });
    assert.is(piped.status, 0, piped.stderr);
    assert.match(piped.stdout, ': valid (5 hosts)');
    // A writer that holds the pipe open and writes nothing: the read gives up after its bound.
    const holder = spawn('bash', ['-c', 'exec 3<>"$1"; echo ready; sleep 30', '_', fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise((resolve) => holder.stdout.once('data', resolve));
      const started = Date.now();
      assert.throws(
        () => readInventoryText(fifo, { pipeWaitMs: 500 }),
        (e: Error) => e.message === `${fifo}: a pipe whose writer wrote nothing for 0.5 s: kubeha stops waiting (give a file)`,
      );
      assert.ok(Date.now() - started < 5_000);
    } finally {
      holder.kill();
    }
  } finally {
    cleanup(dir);
  }
});

test('UTF-16 and UTF-32 files, with or without a byte order mark, are told to be saved as UTF-8', () => {
  const dir = tempDir();
  try {
    const le = (t: string) => Buffer.from(t, 'utf16le');
    const be = (t: string) => le(t).swap16();
    const yamlText = 'cluster:\n  kubernetesVersion: "1.34.2"\n';
    const cases: [string, Buffer, string][] = [
      ['le-bom.json', le('\uFEFF' + RUNBOOK_TEXT), 'UTF-16 (little-endian, with a byte order mark)'],
      ['le.yaml', le(yamlText), 'UTF-16 (little-endian, without a byte order mark)'],
      ['be-bom.yaml', be('\uFEFF' + yamlText), 'UTF-16 (big-endian, with a byte order mark)'],
      ['be.json', be(RUNBOOK_TEXT), 'UTF-16 (big-endian, without a byte order mark)'],
      ['le32.yaml', Buffer.from([0xff, 0xfe, 0, 0, 0x61, 0, 0, 0]), 'UTF-32 (little-endian, with a byte order mark)'],
    ];
    for (const [name, bytes, what] of cases) {
      const file = join(dir, name);
      writeFileSync(file, bytes);
      const r = validateFile(file);
      assert.is(r.status, 1, name);
      assert.is(r.stderr, `${file}: the file is ${what}: save it as UTF-8\n`, name);
    }
    // Other NUL bytes: not text at all.
    const binary = join(dir, 'binary.yaml');
    writeFileSync(binary, Buffer.from([0x63, 0x6c, 0, 0, 0, 0x75, 0x73, 0x74, 0x65, 0x72, 0x3a, 0x0a]));
    assert.is(validateFile(binary).stderr, `${binary}: the file holds NUL bytes (byte 3): not a text file; an inventory is UTF-8 text\n`);
  } finally {
    cleanup(dir);
  }
});

test('a number or boolean where a string belongs: the hint to quote it, as it was written', () => {
  const yaml = (version: string, name: string) =>
    `cluster:\n  kubernetesVersion: ${version}\n  podSubnet: 10.244.0.0/16\nhosts:\n  - { name: ${name}, address: 10.0.0.1, roles: [control-plane, etcd] }\n`;
  assert.equal(
    validateInventory('inventory.yaml', yaml('1.30', 'true')).errors.map((p) => formatProblem('inventory.yaml', p)),
    [
      'inventory.yaml /cluster/kubernetesVersion: must be a string, not the number 1.3: quote it: "1.30" (line 2)',
      'inventory.yaml /hosts/0/name: must be a string, not the boolean true: quote it: "true" (line 5)',
    ],
  );
  assert.equal(
    validateInventory('inventory.json', RUNBOOK_TEXT.replace('"1.34.2"', '1.340')).errors.map((p) => formatProblem('inventory.json', p)),
    ['inventory.json /cluster/kubernetesVersion: must be a string, not the number 1.34: quote it: "1.340" (line 4)'],
  );
  // Other type errors keep ajv's words.
  assert.equal(
    errorsOf((d) => {
      d.loadBalancer.port = '16443';
    }),
    ['/loadBalancer/port: must be integer'],
  );
});

test('IPv6 addresses and ranges get the hint that kubeha builds IPv4 clusters only', () => {
  assert.equal(
    errorsOf((d) => {
      d.hosts[0].address = 'fd00::6';
      d.loadBalancer.vip = '2001:db8::100';
      d.cluster.podSubnet = 'fd00:10::/56';
      d.cluster.serviceSubnet = '10.96.0.0/16';
    }),
    [
      '/cluster/podSubnet: must be an IPv4 CIDR range such as 10.244.0.0/16: fd00:10::/56 is an IPv6 range, and kubeha does not support IPv6 yet (IPv4 clusters only)',
      '/loadBalancer/vip: must match format "ipv4": 2001:db8::100 is an IPv6 address, and kubeha does not support IPv6 yet (IPv4 clusters only)',
      '/hosts/0/address: must match format "ipv4": fd00::6 is an IPv6 address, and kubeha does not support IPv6 yet (IPv4 clusters only)',
    ],
  );
  assert.equal(
    errorsOf((d) => {
      d.hosts[0].address = '10.0.8.256';
    }),
    ['/hosts/0/address: must match format "ipv4"'],
  );
});

test('YAML merge keys are refused with what to write instead, alone (not the missing keys they would have brought)', () => {
  const text =
    'cluster:\n  kubernetesVersion: "1.34.2"\n  podSubnet: 10.244.0.0/16\nhosts:\n  - &cp { name: a, address: 10.0.0.1, roles: [control-plane, etcd] }\n  - { <<: *cp, name: b, address: 10.0.0.2 }\n  - *cp\n';
  assert.equal(
    validateInventory('inventory.yaml', text).errors.map((p) => formatProblem('inventory.yaml', p)),
    [
      'inventory.yaml /hosts/1/<<: YAML merge keys ("<<") are not supported: kubeha reads YAML 1.2, which has none; write the keys out (anchors and aliases such as &a and *a alone work) (line 6)',
    ],
  );
  // An alias alone is read (here it repeats host a: the duplicates, and a second control plane without a VIP, are reported).
  assert.equal(
    validateInventory('inventory.yaml', text.replace('  - { <<: *cp, name: b, address: 10.0.0.2 }\n', '')).errors.map((p) => p.pointer),
    ['/hosts/1/name', '/hosts/1/address', ''],
  );
});

test.run();
