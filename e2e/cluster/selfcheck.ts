/**
 * `node dist/e2e/cluster/selfcheck.js` (root): everything about the site that can be proven without booted hosts.
 * Builds (or finds cached) the site, fills it from `gen artifacts --json` of an inventory at each Kubernetes version it
 * serves (1.36.3 and 1.37.2, the lists merged, as an upgrade's site) whose mirrors point at it, serves it in a network
 * namespace and, from a client namespace: apt in a chroot of the e2e image installs each version from the signed
 * repositories (and refuses them under the wrong key); each listed image's manifest and config through
 * the mirror; the etcd tarball's checksum and layout; the built programs' versions and the packages' control fields;
 * requests for unlisted things recorded as such. Prints times, sizes and the request summary.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import type { ArtifactList } from '../../src/render/mirror-list.js';
import { ensureImage } from '../image.js';
import { runOrThrow, runSync } from '../proc.js';
import { checkApt, checkDebs } from './selfcheck-apt.js';
import { checkEtcdTarball, checkImages, checkPrograms, checkUnlisted } from './selfcheck-serve.js';
import { makeNetwork, NET, type Check } from './selfcheck-net.js';
import { buildSite, fillSite, mergeArtifactLists, siteMirrors, startSite, SITE_VERSIONS, type SiteBuild } from './site.js';

/** `gen artifacts --json` of an inventory at a Kubernetes version with the site's mirrors, run in-process. */
async function artifactsFor(built: SiteBuild, work: string, version: string): Promise<ArtifactList> {
  const additions = siteMirrors(NET.siteAddress, built);
  const inventory = {
    cluster: {
      name: 'site',
      kubernetesVersion: version,
      podSubnet: '10.244.0.0/16',
      serviceSubnet: '10.96.0.0/16',
      kubeProxyMode: 'nftables',
    },
    loadBalancer: { vip: '203.0.113.100', port: 16443 },
    etcd: additions.etcd,
    mirrors: additions.mirrors,
    hosts: [
      ...[1, 2, 3].map((i) => ({ name: `etcd-${i}`, address: `203.0.113.1${i}`, roles: ['etcd'] })),
      ...[1, 2].map((i) => ({ name: `lb-${i}`, address: `203.0.113.2${i}`, roles: ['loadbalancer'] })),
      { name: 'cp-1', address: '203.0.113.31', roles: ['control-plane'] },
      { name: 'worker-1', address: '203.0.113.41', roles: ['worker'] },
    ],
  };
  const path = join(work, `inventory-${version}.json`);
  writeFileSync(path, JSON.stringify(inventory, null, 2));
  let out = '';
  let err = '';
  const code = await main(['artifacts', path, '--json'], { out: (t) => (out += t), err: (t) => (err += t) });
  if (code !== 0) throw new Error(`gen artifacts ${path} --json failed (${code}):\n${err}`);
  return JSON.parse(out) as ArtifactList;
}

/** Runs one named check, printing its time; failures are collected, not thrown. */
async function step(name: string, failures: string[], fn: () => Promise<string> | string): Promise<void> {
  const started = performance.now();
  try {
    const detail = await fn();
    console.log(`ok   ${name} (${((performance.now() - started) / 1000).toFixed(1)} s)${detail ? `\n     ${detail.replaceAll('\n', '\n     ')}` : ''}`);
  } catch (error) {
    failures.push(name);
    console.log(`FAIL ${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Builds and reports each component's time and size. */
async function build(log: (line: string) => void): Promise<SiteBuild> {
  const started = performance.now();
  const built = await buildSite(log);
  for (const c of built.programs.components) {
    const size = runOrThrow(['du', '-sh', c.dir]).split('\t')[0];
    console.log(`     ${c.component.id.padEnd(20)} ${c.component.version.padEnd(9)} ${c.cached ? 'cached' : `${c.seconds.toFixed(0)} s`.padStart(6)} ${size}`);
  }
  for (const [what, made] of [
    ...built.debs.builds.map((b) => [b.what, b] as const),
    ['debian layer (debootstrap)', built.images.layer] as const,
    ['images', built.images] as const,
  ])
    console.log(
      `     ${what.padEnd(30)} ${made.cached ? 'cached' : `${made.seconds.toFixed(0)} s`.padStart(6)} ${runOrThrow(['du', '-sh', made.dir]).split('\t')[0]}`,
    );
  console.log(`     built in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return built;
}

/** The whole self-check; returns the names of the failed checks. */
async function selfcheck(work: string): Promise<string[]> {
  const log = (line: string) => console.log(`     [site] ${line}`);
  const failures: string[] = [];
  const built = await build(log);
  const image = ensureImage(log);
  makeNetwork();
  // One site for every version it serves, as an upgrade needs: the lists of an inventory at each, merged.
  const lists = [];
  for (const version of SITE_VERSIONS.kubernetes) lists.push(await artifactsFor(built, work, version));
  const list = mergeArtifactLists(...lists);
  const site = await fillSite(list, built, join(work, 'site'), log);
  for (const note of site.notes) console.log(`     note: ${note}`);
  const running = await startSite(site, NET.site, log);
  const ctx: Check = { site, running, built, list, work, log };
  try {
    await step('programs report their versions', failures, () => checkPrograms(built));
    await step('packages carry the real control fields', failures, () => checkDebs(built));
    for (const version of SITE_VERSIONS.kubernetes)
      await step(`apt installs ${version} from the signed repositories in a chroot, and refuses the wrong key`, failures, () =>
        checkApt(ctx, image.root, version),
      );
    await step('the etcd tarball through the files mirror', failures, () => checkEtcdTarball(ctx));
    await step('every listed image through the mirror', failures, () => checkImages(ctx));
    await step('unlisted requests are recorded', failures, () => checkUnlisted(ctx));
    console.log(running.summary());
  } finally {
    await running.stop();
  }
  return failures;
}

if (process.argv[1]?.endsWith('selfcheck.js')) {
  const work = mkdtempSync(join(tmpdir(), 'kubeha-site-'));
  mkdirSync(work, { recursive: true });
  let failures: string[] = ['(did not finish)'];
  try {
    failures = await selfcheck(work);
  } finally {
    for (const ns of [NET.site, NET.client]) runSync(['ip', 'netns', 'delete', ns]);
    if (failures.length === 0) rmSync(work, { recursive: true, force: true });
    else console.log(`kept ${work}`);
  }
  console.log(failures.length ? `site self-check FAILED: ${failures.join('; ')}` : 'site self-check passed');
  process.exitCode = failures.length ? 1 : 0;
}
