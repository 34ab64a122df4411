/**
 * The decisions TypeScript makes about a host's run.sh (src/render/run-script.ts, host-files.ts, artifacts.ts), pure
 * and fast: which steps and files a host gets, in which phase and order, how each file is installed, what is rendered
 * once for many hosts. Made with small artifacts and steps of the test's own, through the real run.sh template.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ARTIFACTS, STEPS } from '../src/render/artifacts.js';
import { HAPROXY_CHECK, NFT_CHECK } from '../src/render/config-checks.js';
import type { Artifact, RenderContext, Step } from '../src/render/context.js';
import { renderHostFiles } from '../src/render/host-files.js';
import { modelOf, REPO, secretsFor, TEMPLATES } from './helpers.js';

const model = modelOf(JSON.parse(readFileSync(join(REPO, 'examples', 'runbook.json'), 'utf8')));
const secrets = await secretsFor(model);
const ctxOf = (name: string): RenderContext => ({ model, host: model.hosts.find((h) => h.name === name)!, secrets, templates: TEMPLATES });
const lb = (h: { isLoadBalancer: boolean }) => h.isLoadBalancer;
const all = () => true;

/** The body of one phase function of a run.sh, without its closing `:`. */
function phase(runSh: string, name: string): string {
  const start = runSh.indexOf(`phase_${name}() {\n`);
  return runSh.slice(start + `phase_${name}() {\n`.length, runSh.indexOf('  :\n}', start));
}

test("a host gets the files and steps whose `when` holds; each file's install line has its mode, quoted path and check", () => {
  const artifacts: Artifact[] = [
    { path: '/etc/kubeha/b file', mode: 0o600, when: lb, render: () => 'b', check: HAPROXY_CHECK },
    { path: '/etc/kubeha/a', mode: 0o644, when: all, render: () => Buffer.from([0, 1, 2]) },
    { path: '/etc/kubeha/only-etcd', mode: 0o644, when: (h) => h.isEtcd, render: () => 'e' },
  ];
  const steps: Step[] = [{ phase: 'os', name: 'lb step', when: lb, script: () => 'echo lb' }];
  const files = renderHostFiles(ctxOf('worker1'), artifacts, steps);
  assert.equal(files.map((f) => `${f.mode.toString(8)} ${f.path} ${JSON.stringify(f.bytes.toString('latin1'))}`).slice(0, 2), [
    '644 rootfs/etc/kubeha/a "\\u0000\\u0001\\u0002"',
    '600 rootfs/etc/kubeha/b file "b"',
  ]);
  assert.equal(
    files.map((f) => f.path),
    ['rootfs/etc/kubeha/a', 'rootfs/etc/kubeha/b file', 'run.sh'],
  );
  const runSh = files.at(-1)!;
  assert.is(runSh.mode, 0o755);
  const text = runSh.bytes.toString('utf8');
  assert.is(phase(text, 'files'), "  # install files\n  install_file 0644 /etc/kubeha/a\n  install_file 0600 '/etc/kubeha/b file' check_haproxy\n");
  assert.is(phase(text, 'os'), '  # lb step\necho lb\n');
  assert.match(text, 'check_haproxy() {');
  assert.not.match(text, 'check_nft() {', 'only the checks its files use');
  const etcd = renderHostFiles(ctxOf('ceph1'), artifacts, steps);
  assert.equal(
    etcd.map((f) => f.path),
    ['rootfs/etc/kubeha/a', 'rootfs/etc/kubeha/only-etcd', 'run.sh'],
  );
  assert.is(phase(etcd.at(-1)!.bytes.toString('utf8'), 'os'), '');
});

test('phases run in their order; in files, steps marked beforeInstall come before the install lines, the others after', () => {
  const step = (phase: Step['phase'], name: string, extra: Partial<Step> = {}): Step => ({ phase, name, when: all, script: () => `echo ${name}`, ...extra });
  const steps = [
    step('addons', 'last'),
    step('files', 'after install'),
    step('files', 'before install', { beforeInstall: true }),
    step('preflight', 'first'),
    step('files', 'no newline', { script: () => 'echo no newline' }),
    step('files', 'empty', { script: () => '' }),
  ];
  const text = renderHostFiles(ctxOf('ceph1'), [{ path: '/x', mode: 0o644, when: all, render: () => 'x' }], steps)
    .at(-1)!
    .bytes.toString('utf8');
  assert.is(
    phase(text, 'files'),
    '  # before install\necho before install\n  # install files\n  install_file 0644 /x\n  # after install\necho after install\n  # no newline\necho no newline\n  # empty\n',
  );
  assert.is(phase(text, 'preflight'), '  # first\necho first\n');
  assert.is(phase(text, 'addons'), '  # last\necho last\n');
  assert.ok(text.indexOf('phase_preflight()') < text.indexOf('phase_os()') && text.indexOf('phase_kubeadm()') < text.indexOf('phase_addons()'));
  assert.match(text, "readonly KUBEHA_PHASES='preflight os packages files services kubeadm addons'\n");
});

test('two files with one check define it once; two artifacts at one path are refused', () => {
  const twice = renderHostFiles(
    ctxOf('ceph1'),
    [
      { path: '/a.nft', mode: 0o644, when: all, render: () => 'a', check: NFT_CHECK },
      { path: '/b.nft', mode: 0o644, when: all, render: () => 'b', check: NFT_CHECK },
    ],
    [],
  )
    .at(-1)!
    .bytes.toString('utf8');
  assert.is(twice.split('check_nft() {').length, 2);
  assert.throws(
    () =>
      renderHostFiles(
        ctxOf('ceph1'),
        [
          { path: '/same', mode: 0o644, when: all, render: () => 'a' },
          { path: '/same', mode: 0o600, when: all, render: () => 'b' },
        ],
        [],
      ),
    /^two artifacts install \/same on ceph1$/,
  );
});

test('what is declared the same on every host is rendered once; the same for the same roles, once per set of roles', () => {
  const calls: string[] = [];
  /** A render that records each call: `what host`. */
  const counted = (what: string, text: (name: string) => string) => (c: RenderContext) => {
    calls.push(`${what} ${c.host.name}`);
    return text(c.host.name);
  };
  const artifacts: Artifact[] = [{ path: '/shared', mode: 0o644, when: all, sameOnEveryHost: true, render: counted('file', (n) => n) }];
  const steps: Step[] = [
    { phase: 'os', name: 'cluster', when: all, sameOnEveryHost: true, script: counted('cluster', (n) => `echo ${n}`) },
    { phase: 'os', name: 'roles', when: all, sameForSameRoles: true, script: counted('roles', (n) => `echo ${n}`) },
    { phase: 'os', name: 'own', when: all, script: counted('own', (n) => `echo ${n}`) },
  ];
  const texts = model.hosts.map((h) => renderHostFiles(ctxOf(h.name), artifacts, steps));
  assert.equal(calls, ['file worker1', 'cluster worker1', 'roles worker1', 'own worker1', 'own worker2', 'roles ceph1', 'own ceph1', 'own ceph2', 'own ceph3']);
  assert.is(texts[4]![0]!.bytes.toString('utf8'), 'worker1', "ceph3's shared file is worker1's render");
  assert.is(phase(texts[4]!.at(-1)!.bytes.toString('utf8'), 'os'), '  # cluster\necho worker1\n  # roles\necho ceph1\n  # own\necho ceph3\n');
});

test("the real lists: every path installed at most once per host, every step named, an etcd member's phases in order", () => {
  for (const host of model.hosts) {
    const paths = ARTIFACTS.filter((a) => a.when(host, model)).map((a) => a.path);
    assert.equal(paths, [...new Set(paths)], host.name);
  }
  assert.ok(STEPS.every((s) => s.name.length > 3));
  const ceph1 = renderHostFiles(ctxOf('ceph1'), ARTIFACTS, STEPS).at(-1)!.bytes.toString('utf8');
  assert.equal(
    [...ceph1.matchAll(/^phase_(\w+)\(\) \{$/gm)].map((m) => m[1]),
    ['preflight', 'os', 'packages', 'files', 'services', 'kubeadm', 'addons'],
  );
  assert.match(phase(ceph1, 'preflight'), '  # running as root\n');
  assert.not.match(phase(ceph1, 'os'), 'kernel modules', 'an etcd member is no Kubernetes node');
  assert.match(phase(renderHostFiles(ctxOf('worker1'), ARTIFACTS, STEPS).at(-1)!.bytes.toString('utf8'), 'os'), '  # kernel modules\n');
});

test.run();
