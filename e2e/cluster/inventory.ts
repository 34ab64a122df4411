/**
 * The inventory under test, with only what a site operator adds for their own site: the mirrors' URLs, the etcd release
 * they vouch for (etcd.version + etcd.tarballs), and cluster.allowCgroupV1 when the hosts run cgroup v1 (this machine's
 * booted hosts do: it has hybrid cgroups, and a v2 hierarchy with controllers cannot be had here).
 */
import { readFileSync, statfsSync, writeFileSync } from 'node:fs';
import { load, dump } from 'js-yaml';

/** What the site adds (from the site's builder). */
export interface SiteAdditions {
  mirrors: Record<string, unknown>;
  etcd: { version: string; tarballs: Record<string, { url: string; sha256: string }> };
}

/** The cgroup2 file system's magic number (statfs f_type of /sys/fs/cgroup on a cgroup v2 host). */
const CGROUP2_SUPER_MAGIC = 0x63677270;

/** Whether this machine (whose kernel and cgroups the booted hosts share) runs cgroup v1 or hybrid. */
export function hostsRunCgroupV1(): boolean {
  return statfsSync('/sys/fs/cgroup').type !== CGROUP2_SUPER_MAGIC;
}

/** What the harness reads and adds of an inventory (the rest is passed through as written). */
export interface InventoryDoc {
  cluster: {
    kubernetesVersion: string;
    dnsDomain?: string;
    allowCgroupV1?: boolean;
    kubelet?: { evictionHard?: Record<string, string> };
    [key: string]: unknown;
  };
  mirrors?: unknown;
  etcd?: { version?: string; tarballs?: unknown; [key: string]: unknown };
  [key: string]: unknown;
}

/** Reads an inventory (JSON or YAML) as a plain object. */
export function readInventory(path: string): InventoryDoc {
  return load(readFileSync(path, 'utf8')) as InventoryDoc;
}

/** The inventory with the site's additions, written as YAML to `path`; fails when the inventory already sets any of them. */
export function siteInventory(source: string, site: SiteAdditions, path: string): InventoryDoc {
  const inv = readInventory(source);
  if (inv.mirrors) throw new Error(`${source} sets mirrors: the e2e site's mirrors replace them; leave them out`);
  if (inv.etcd?.version || inv.etcd?.tarballs) throw new Error(`${source} sets etcd.version or etcd.tarballs: the e2e site serves its own etcd release`);
  inv.mirrors = site.mirrors;
  inv.etcd = { ...(inv.etcd ?? {}), install: 'release', version: site.etcd.version, tarballs: site.etcd.tarballs };
  if (hostsRunCgroupV1()) inv.cluster = { ...inv.cluster, allowCgroupV1: true };
  writeFileSync(path, `# ${source} with the e2e site's additions (e2e/cluster/inventory.ts)\n${dump(inv, { lineWidth: -1 })}`);
  return inv;
}

/** Free addresses of the hosts' /24 for the run's own namespaces (the site's mirror, the operator's workstation), from .250 down. */
export function freeAddresses(used: readonly string[], count: number): string[] {
  const prefix = used[0]!.split('.').slice(0, 3).join('.');
  const out: string[] = [];
  for (let last = 250; last > 1 && out.length < count; last--) {
    const candidate = `${prefix}.${last}`;
    if (!used.includes(candidate)) out.push(candidate);
  }
  if (out.length < count) throw new Error(`no ${count} free addresses in ${prefix}.0/24`);
  return out;
}
