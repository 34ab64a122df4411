/** Hostile or careless input (issue 11, items 11-13): paths, JSON quirks, huge inputs, values that are valid syntax but wrong. */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateInventory, formatProblem } from '../src/inventory/index.js';
import { MAX_INVENTORY_BYTES } from '../src/cli/inventory-file.js';
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

test.run();
