/**
 * The one Kubernetes version table (src/common/kubernetes-versions.ts): its rows are whole and ordered, every fact that
 * varies by minor reads it, and what README, docs and the schema say about versions agrees with it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KUBE_PROMETHEUS_RELEASES, defaultKubePrometheusFor } from '../src/common/kube-prometheus-releases.js';
import { atPatch, firstMinorWhere, KUBERNETES_MINORS, SUPPORTED_MINORS } from '../src/common/kubernetes-versions.js';
import { compareVersions, kubeadmApiFor, minExternalEtcdFor } from '../src/common/versions.js';
import { inventorySchema } from '../src/inventory/schema.js';
import { REPO } from './helpers.js';

const read = (path: string) => readFileSync(join(REPO, path), 'utf8');

test('one row per minor, oldest first and without gaps; the supported range is the table', () => {
  assert.equal(
    KUBERNETES_MINORS.map((m) => m.minor),
    Array.from({ length: 14 }, (_, i) => 24 + i),
  );
  assert.equal(SUPPORTED_MINORS, { oldest: 24, newest: 37 });
  for (const m of KUBERNETES_MINORS) {
    assert.is(m.packages, `v1.${m.minor}`);
    assert.match(m.endOfLife, /^20[0-9]{2}-[01][0-9]-[0-3][0-9]$/);
    for (const v of m.kubePrometheus)
      assert.ok(
        KUBE_PROMETHEUS_RELEASES.some((r) => r.version === v),
        `1.${m.minor}: kube-prometheus ${v} unknown`,
      );
    for (const column of [m.minExternalEtcd, m.coredns]) if (typeof column !== 'string') assert.ok(0 in column, `1.${m.minor}: a per-patch value starts at .0`);
  }
});

test('what only rises with the minors rises: end of life, the containerd floor, the etcd floor', () => {
  for (let i = 1; i < KUBERNETES_MINORS.length; i++) {
    const [before, after] = [KUBERNETES_MINORS[i - 1]!, KUBERNETES_MINORS[i]!];
    assert.ok(before.endOfLife < after.endOfLife, `end of life 1.${after.minor}`);
    assert.ok(compareVersions(before.containerd, after.containerd) <= 0, `containerd 1.${after.minor}`);
    assert.ok(compareVersions(atPatch(before.minExternalEtcd, 0), atPatch(after.minExternalEtcd, 0)) <= 0, `etcd 1.${after.minor}`);
  }
});

test('the readers: the kubeadm API, the etcd floor of a patch or a minor, the default kube-prometheus release', () => {
  assert.is(kubeadmApiFor(30), 'kubeadm.k8s.io/v1beta3');
  assert.is(kubeadmApiFor(31), 'kubeadm.k8s.io/v1beta4');
  assert.is(kubeadmApiFor(37), 'kubeadm.k8s.io/v1beta4', 'kubeadm 1.37 removed v1beta3 and refuses its experimental v1');
  assert.is(minExternalEtcdFor('1.33.5'), '3.5.11');
  assert.is(minExternalEtcdFor('1.33.6'), '3.5.24');
  assert.is(minExternalEtcdFor(33), '3.5.24', "a minor alone: its newest patch's floor");
  assert.is(minExternalEtcdFor('1.27.16'), '3.2.18');
  assert.is(minExternalEtcdFor('1.28.0'), '3.4.13');
  assert.is(defaultKubePrometheusFor(36), '0.18.0');
  assert.is(defaultKubePrometheusFor(37), undefined);
  assert.throws(() => kubeadmApiFor(38), /kubeha knows nothing of Kubernetes 1\.38: it supports 1\.24 to 1\.37/);
});

/** `0.12.0 for 1.24-1.25, 0.14.0 for 1.26-1.30, ...`: each default release with the minors it is the default of. */
function defaultRanges(): string {
  const runs: { version: string; from: number; to: number }[] = [];
  for (const m of KUBERNETES_MINORS) {
    const version = m.kubePrometheus.at(-1);
    if (!version) continue;
    const last = runs.at(-1);
    if (last?.version === version && last.to === m.minor - 1) last.to = m.minor;
    else runs.push({ version, from: m.minor, to: m.minor });
  }
  return runs.map((r) => `${r.version} for 1.${r.from}${r.to > r.from ? `-1.${r.to}` : ''}`).join(', ');
}

test("README, docs/operations.md and the schema's words about versions agree with the table", () => {
  const firstV4 = firstMinorWhere((m) => m.kubeadmApi === 'kubeadm.k8s.io/v1beta4')!;
  const readme = read('README.md');
  assert.match(
    readme,
    `# required; 1.${SUPPORTED_MINORS.oldest}-1.${SUPPORTED_MINORS.newest} (kubeadm v1beta3 up to 1.${firstV4 - 1}, v1beta4 from 1.${firstV4};`,
  );
  const nftablesDefault = firstMinorWhere((m) => m.defaultKubeProxyMode === 'nftables')!;
  const modeFacts = `nftables needs 1.${firstMinorWhere((m) => m.kubeProxyModes.includes('nftables'))}+, ipvs is deprecated from 1.${firstMinorWhere((m) => m.ipvsDeprecated)}`;
  assert.match(readme, `# default from 1.${nftablesDefault} (iptables before); or iptables, ipvs; ${modeFacts};`);
  const ops = read('docs/operations.md').replace(/\n/g, ' ');
  assert.match(ops, `newest kube-prometheus release whose README compatibility table lists that minor: ${defaultRanges()} (`);
  for (const m of KUBERNETES_MINORS.filter((row) => row.kubePrometheus.length === 0)) assert.match(ops, `No release lists 1.${m.minor} yet`);
  const cluster = (inventorySchema as any).properties.cluster.properties;
  assert.match(cluster.allowCgroupV1.description, `with Kubernetes 1.${firstMinorWhere((m) => m.cgroupV1Refused)} and later`);
  assert.match(
    cluster.kubeProxyMode.description,
    `Unset: nftables from Kubernetes 1.${nftablesDefault} (where the mode is GA upstream), iptables before; ipvs is deprecated from 1.${firstMinorWhere((m) => m.ipvsDeprecated)}.`,
  );
  // The default of each minor, as KEP-3866 and the deprecation give it (literals, not read from the table).
  assert.equal(
    KUBERNETES_MINORS.map((m) => `1.${m.minor}:${m.defaultKubeProxyMode}`).join(' '),
    '1.24:iptables 1.25:iptables 1.26:iptables 1.27:iptables 1.28:iptables 1.29:iptables 1.30:iptables 1.31:iptables 1.32:iptables ' +
      '1.33:nftables 1.34:nftables 1.35:nftables 1.36:nftables 1.37:nftables',
  );
});

test.run();
