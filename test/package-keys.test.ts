/**
 * Package repositories over plain HTTP and their signing keys (issue 27, item 2): a key that plain HTTP could replace
 * is refused; a key pinned by fingerprint is checked with the real gpg before it is trusted; an armored key ships in
 * the bundle; plain HTTP is warned about by gen and by run.sh.
 *
 * test/fixtures/keys holds two public keys made for these tests (gpg --quick-gen-key ed25519; the repository key has
 * an encryption subkey); their fingerprints below are as gpg printed them when they were made.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateInventory } from '../src/inventory/index.js';
import { mirrorList, describeMirrorList } from '../src/render/mirror-list.js';
import { cleanup, compileDoc, FIXTURES, tempDir, testNeeding, text, type InventoryDoc } from './helpers.js';

const REPOSITORY_KEY = readFileSync(join(FIXTURES, 'keys', 'repository.asc'), 'utf8');
const ATTACKER_KEY = readFileSync(join(FIXTURES, 'keys', 'attacker.asc'), 'utf8');
const REPOSITORY_FPR = 'EEDA3FA99FA8D4A385B8278A425F201E9D97EB15';
const REPOSITORY_SUBKEY_FPR = 'AE1FB4587EF796DE1CCC1F6DE9E71E47908656C2';
const ATTACKER_FPR = 'ABCF6213163999908A8B295B990DF28EC8A6C189';

function cluster(mirrors: object): InventoryDoc {
  return {
    cluster: { kubernetesVersion: '1.34.2', podSubnet: '10.244.0.0/16' },
    mirrors,
    hosts: [
      { name: 'cp1', address: '127.0.1.1', roles: ['control-plane', 'etcd'] },
      { name: 'e2', address: '127.0.1.2', roles: ['etcd'] },
      { name: 'e3', address: '127.0.1.3', roles: ['etcd'] },
    ],
  };
}

/** The inventory's problems as `severity POINTER: message`. */
function problems(mirrors: object): string[] {
  const r = validateInventory('inventory.json', JSON.stringify(cluster(mirrors)));
  return [...r.errors, ...r.warnings].map((p) => `${p.severity} ${p.pointer}: ${p.message}`);
}

const HTTP_K8S = 'http://mirror.example.cn/kubernetes-new/core/stable';
const HTTP_DOCKER = 'http://mirror.example.cn/docker-ce';
const WARNING = (url: string) =>
  `${url} is plain HTTP: apt and dnf check every package against the signing key, but anyone on the path sees what the nodes install and can hold back updates (serve an old signed index); prefer https`;

test('a plain-HTTP package mirror is refused unless its key is pinned or comes over https; then it is warned about', () => {
  assert.equal(problems({ kubernetesPackages: HTTP_K8S, dockerPackages: HTTP_DOCKER }), [
    `error /mirrors/kubernetesPackages: ${HTTP_K8S} is plain HTTP, and the repository's signing key would come from it too: anyone on the path could replace the key and the packages the nodes install as root; give mirrors.kubernetesPackagesKey.fingerprints (run.sh checks the key with gpg), mirrors.kubernetesPackagesKey.armored (the key itself) or mirrors.kubernetesPackagesKey.url over https, or use https`,
    `error /mirrors/dockerPackages: ${HTTP_DOCKER} is plain HTTP, and the repository's signing key would come from it too: anyone on the path could replace the key and the packages the nodes install as root; give mirrors.dockerPackagesKey.fingerprints (run.sh checks the key with gpg), mirrors.dockerPackagesKey.armored (the key itself) or mirrors.dockerPackagesKey.url over https, or use https`,
  ]);
  // Pinned by fingerprint (spaces as gpg prints them), given armored, or fetched over https: a warning only.
  assert.equal(
    problems({
      kubernetesPackages: HTTP_K8S,
      kubernetesPackagesKey: { fingerprints: ['EEDA 3FA9 9FA8 D4A3 85B8  278A 425F 201E 9D97 EB15'] },
      dockerPackages: HTTP_DOCKER,
      dockerPackagesKey: { armored: REPOSITORY_KEY },
    }),
    [`warning /mirrors/kubernetesPackages: ${WARNING(HTTP_K8S)}`, `warning /mirrors/dockerPackages: ${WARNING(HTTP_DOCKER)}`],
  );
  assert.equal(problems({ kubernetesPackages: HTTP_K8S, kubernetesPackagesKey: { url: 'https://keys.example.cn/k8s.asc' } }), [
    `warning /mirrors/kubernetesPackages: ${WARNING(HTTP_K8S)}`,
  ]);
  // A key over plain HTTP needs fingerprints wherever the repository is; url and armored exclude each other.
  assert.equal(problems({ kubernetesPackagesKey: { url: 'http://keys.example.cn/k8s.asc' } }), [
    'error /mirrors/kubernetesPackagesKey/url: http://keys.example.cn/k8s.asc is plain HTTP: anyone on the path could replace the signing key, and with it every package the nodes install as root; use https, or add fingerprints (run.sh checks the key against them with gpg)',
  ]);
  assert.equal(problems({ dockerPackagesKey: { url: 'http://keys.example.cn/docker.asc', fingerprints: [REPOSITORY_FPR] } }), []);
  assert.equal(problems({ dockerPackagesKey: { url: 'https://keys.example.cn/docker.asc', armored: REPOSITORY_KEY } }), [
    'error /mirrors/dockerPackagesKey: url and armored exclude each other: armored is the key itself, and nothing is downloaded',
  ]);
  // https mirrors: nothing to say.
  assert.equal(problems({ kubernetesPackages: 'https://mirror.example.cn/k8s', dockerPackages: 'https://mirror.example.cn/docker-ce' }), []);
});

test('fingerprints and armored keys are checked for their form', () => {
  assert.equal(problems({ dockerPackagesKey: { fingerprints: ['9DC8 5822'], armored: 'mQINBFit2ioBEADhWpZ8' } }), [
    'error /mirrors/dockerPackagesKey/fingerprints/0: must be an OpenPGP fingerprint as gpg --show-keys prints it: 40 hexadecimal digits (spaces allowed), such as "9DC8 5822 9FC7 DD38 854A  E2D8 8D81 803C 0EBF CD88"',
    'error /mirrors/dockerPackagesKey/armored: must be an ASCII-armored public key: from a "-----BEGIN PGP PUBLIC KEY BLOCK-----" line to an "-----END PGP PUBLIC KEY BLOCK-----" line (gpg --armor --export KEYID)',
  ]);
});

test('run.sh: the pinned key is checked on both families, the armored key ships in the bundle, plain HTTP is warned about', async () => {
  const { hosts, model } = await compileDoc(
    cluster({
      kubernetesPackages: HTTP_K8S,
      kubernetesPackagesKey: { fingerprints: ['eeda3fa99fa8d4a385b8278a425f201e9d97eb15'] },
      dockerPackages: HTTP_DOCKER,
      dockerPackagesKey: { armored: REPOSITORY_KEY, fingerprints: [REPOSITORY_FPR] },
    }),
  );
  const runSh = text(hosts, 'cp1', 'run.sh');
  for (const line of [
    `  warn '${HTTP_K8S} serves packages over plain HTTP: they are checked against the signing key, but anyone on the path sees what this host installs and can hold back updates; prefer https'`,
    `        signing_key /etc/apt/keyrings/kubernetes-apt-keyring.gpg ${HTTP_K8S}/v1.34/deb/Release.key ${REPOSITORY_FPR}`,
    `        signing_key /etc/pki/rpm-gpg/kubeha-kubernetes.asc ${HTTP_K8S}/v1.34/rpm/repodata/repomd.xml.key ${REPOSITORY_FPR}`,
    `      signing_key /etc/apt/keyrings/docker.asc /etc/kubeha/keys/docker-packages.asc ${REPOSITORY_FPR}`,
    `        signing_key /etc/pki/rpm-gpg/kubeha-docker.asc /etc/kubeha/keys/docker-packages.asc ${REPOSITORY_FPR}`,
  ])
    assert.ok(runSh.includes(`\n${line}\n`), line);
  // dnf reads the checked copy; the comment names the key, so a new key rewrites the file and is installed again.
  assert.match(runSh, `# signing key (kubeha): fingerprints ${REPOSITORY_FPR}\n[kubernetes]\n`);
  assert.match(runSh, `gpgkey=file:///etc/pki/rpm-gpg/kubeha-kubernetes.asc\n`);
  assert.match(runSh, `gpgkey=file:///etc/pki/rpm-gpg/kubeha-docker.asc'`);
  assert.match(
    runSh,
    `'# signing key (kubeha): fingerprints ${REPOSITORY_FPR}\ndeb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] ${HTTP_K8S}/v1.34/deb/ /'`,
  );
  assert.is(text(hosts, 'cp1', 'rootfs/etc/kubeha/keys/docker-packages.asc'), REPOSITORY_KEY);
  // etcd-only hosts configure no repository: no key, no helper.
  assert.not.ok(hosts.get('e2')!.has('rootfs/etc/kubeha/keys/docker-packages.asc'));
  assert.not.match(text(hosts, 'e2', 'run.sh'), 'signing_key');
  // gen artifacts names the key and the fingerprints.
  assert.match(
    describeMirrorList(mirrorList(model)),
    `  rpm ${HTTP_DOCKER}/linux/centos/$releasever/$basearch/stable  key /etc/kubeha/keys/docker-packages.asc (armored in the inventory)  fingerprints ${REPOSITORY_FPR}  (containerd.io; Kubernetes nodes on RHEL-like hosts)`,
  );
});

testNeeding(['shellcheck'], 'shellcheck -S warning accepts run.sh with pinned, armored and plain-HTTP repositories', async () => {
  const dir = tempDir();
  try {
    const mirrors = [
      { kubernetesPackages: HTTP_K8S, kubernetesPackagesKey: { fingerprints: [REPOSITORY_FPR, ATTACKER_FPR] } },
      { dockerPackages: HTTP_DOCKER, dockerPackagesKey: { armored: REPOSITORY_KEY }, kubernetesPackagesKey: { url: 'https://keys.example.cn/k.asc' } },
    ];
    const files = [];
    for (const [i, m] of mirrors.entries()) {
      for (const runtime of ['containerd', 'docker']) {
        const doc = cluster(m);
        doc.cluster.containerRuntime = runtime;
        const path = join(dir, `${i}-${runtime}.sh`);
        writeFileSync(path, text((await compileDoc(doc)).hosts, 'cp1', 'run.sh'));
        files.push(path);
      }
    }
    const r = spawnSync('shellcheck', ['-S', 'warning', ...files], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stdout + r.stderr);
  } finally {
    cleanup(dir);
  }
});

/** Serves `routes` (path -> body) over plain HTTP on 127.0.0.1 while `fn` runs; fn gets the base URL. */
async function serving<T>(routes: Record<string, string>, fn: (base: string) => Promise<T>): Promise<T> {
  const server = createServer((req, res) => {
    const body = routes[req.url ?? ''];
    res.writeHead(body === undefined ? 404 : 200).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.close();
  }
}

/** Runs run.sh's signing_key (its helpers sourced from the bundle's run.sh, main left out) with ROOT=root; async, so the server answers. */
function signingKey(bundle: string, root: string, args: string[]): Promise<{ code: number | null; out: string }> {
  const helpers = join(bundle, 'helpers.sh');
  writeFileSync(helpers, readFileSync(join(bundle, 'run.sh'), 'utf8').replace(/\nmain "\$@"\n$/, '\n'));
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', 'source "$1"; shift; ROOT=$1; shift; signing_key "$@"', '_', helpers, root, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** The primary fingerprints gpg sees in a key file. */
function fingerprintsIn(file: string): string[] {
  const home = tempDir('kubeha-gnupg-');
  try {
    const r = spawnSync('gpg', ['--batch', '--with-colons', '--show-keys', file], { encoding: 'utf8', env: { ...process.env, GNUPGHOME: home } });
    return [...r.stdout.matchAll(/^pub:.*\nfpr:+([0-9A-F]{40}):/gm)].map((m) => m[1]!);
  } finally {
    cleanup(home);
  }
}

testNeeding(
  ['gpg', 'curl'],
  'signing_key with the real gpg: the pinned key is installed; another key, or the right one with another beside it, is not',
  async () => {
    const dir = tempDir();
    try {
      const { hosts } = await compileDoc(cluster({ dockerPackagesKey: { armored: REPOSITORY_KEY } }));
      const bundle = join(dir, 'cp1');
      mkdirSync(join(bundle, 'rootfs', 'etc', 'kubeha', 'keys'), { recursive: true });
      writeFileSync(join(bundle, 'run.sh'), text(hosts, 'cp1', 'run.sh'));
      writeFileSync(join(bundle, 'rootfs/etc/kubeha/keys/docker-packages.asc'), text(hosts, 'cp1', 'rootfs/etc/kubeha/keys/docker-packages.asc'));
      const keyring = '/etc/apt/keyrings/kubernetes-apt-keyring.gpg';
      await serving(
        { '/good.asc': REPOSITORY_KEY, '/evil.asc': ATTACKER_KEY, '/both.asc': REPOSITORY_KEY + ATTACKER_KEY, '/none.asc': 'not a key\n' },
        async (base) => {
          // The right key, over plain HTTP, checked by its fingerprint: installed dearmored (an apt keyring).
          const root = join(dir, 'root');
          const good = await signingKey(bundle, root, [keyring, `${base}/good.asc`, ATTACKER_FPR, REPOSITORY_FPR]);
          assert.is(good.code, 0, good.out);
          assert.match(good.out, `installed the signing key ${keyring} from ${base}/good.asc (fingerprint checked)`);
          assert.equal(fingerprintsIn(join(root, keyring)), [REPOSITORY_FPR]);
          assert.not.ok(readFileSync(join(root, keyring)).includes('-----BEGIN'), 'dearmored');
          // Replaced on the way, or the right key with another beside it: nothing installed.
          for (const [path, found] of [
            ['/evil.asc', ATTACKER_FPR],
            ['/both.asc', ATTACKER_FPR],
          ] as const) {
            const other = join(dir, `root${path.replace(/\W/g, '-')}`);
            const r = await signingKey(bundle, other, [keyring, `${base}${path}`, REPOSITORY_FPR]);
            assert.is(r.code, 1, r.out);
            assert.match(
              r.out,
              `error: the signing key from ${base}${path} has fingerprint ${found}, which the inventory does not list (${REPOSITORY_FPR}): it may have been replaced on the way; nothing installed`,
            );
            assert.not.ok(existsSync(join(other, keyring)), path);
          }
          // A subkey's fingerprint does not stand for its primary key.
          const sub = await signingKey(bundle, join(dir, 'root-sub'), [keyring, `${base}/good.asc`, REPOSITORY_SUBKEY_FPR]);
          assert.is(sub.code, 1, sub.out);
          const none = await signingKey(bundle, join(dir, 'root-none'), [keyring, `${base}/none.asc`, REPOSITORY_FPR]);
          assert.is(none.code, 1, none.out);
          assert.match(none.out, `error: ${base}/none.asc holds no OpenPGP public key: nothing installed`);
        },
      );
      // The armored key from the bundle, as given (docker's .asc keyring), checked too.
      const shipped = await signingKey(bundle, join(dir, 'root-asc'), ['/etc/apt/keyrings/docker.asc', '/etc/kubeha/keys/docker-packages.asc', REPOSITORY_FPR]);
      assert.is(shipped.code, 0, shipped.out);
      assert.is(readFileSync(join(dir, 'root-asc/etc/apt/keyrings/docker.asc'), 'utf8'), REPOSITORY_KEY);
    } finally {
      cleanup(dir);
    }
  },
);

test.run();
