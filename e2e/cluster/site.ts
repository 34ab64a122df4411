/**
 * The e2e site: everything a site operator's mirrors would serve to an air-gapped kubeha cluster, built from
 * upstream Go modules (programs.ts) and filled only from `gen artifacts --json` of the inventory under test.
 *
 * The lead's calls, in order:
 *   const built = await buildSite(log);                    // programs, .debs, images, etcd tarball (all cached)
 *   const additions = siteMirrors(address, built);         // { mirrors, etcd }: merge into the inventory
 *   // cluster.kubernetesVersion must be one of SITE_VERSIONS.kubernetes; then: gen artifacts INVENTORY --json
 *   // (an upgrade: the lists of the inventory before and after, as mergeArtifactLists(before, after))
 *   const site = await fillSite(artifacts, built, dir, log); // dir: a fresh folder; site.caCert for the hosts' trust
 *   const running = await startSite(site, netns, log);     // the mirror listens on the address inside netns
 *   ... run every bundle ...
 *   running.unlisted()   // requests for anything gen artifacts did not list: the run fails with these
 *   running.beyondList() // requests for what the site had to serve beyond the list (site.notes says why)
 *   running.summary()    // requests and bytes per artifact
 *   await running.stop()
 * The address must already be on a link of netns (port 443); the hosts reach the site at https://ADDRESS/.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ArtifactList } from '../../src/render/mirror-list.js';
import { allowListOf, type AllowList, type ExtraRepository } from './allowlist.js';
import { component, KUBERNETES_VERSIONS } from './components.js';
import { etcdTarball, type EtcdTarball } from './etcd-tarball.js';
import { buildImages, layoutDigests, type Images } from './images.js';
import { buildDebs, type Debs } from './packages.js';
import { buildPrograms, type Programs } from './programs.js';
import { registryStorage } from './registry.js';
import { makeSigningKey, writeDockerRepo, writeKubernetesRepo } from './repos.js';
import { makeSiteTls, type SiteTls } from './tls.js';

export { startSite, type RunningSite } from './running.js';

/** The versions the site serves (the inventory's cluster.kubernetesVersion must be one of `kubernetes`, oldest first). */
export const SITE_VERSIONS = {
  kubernetes: KUBERNETES_VERSIONS,
  etcd: component('etcd').version.slice(1),
  containerd: component('containerd').version.slice(1),
} as const;

/** Where each mirror lives on the site (URL paths). */
export const SITE_PATHS = {
  kubernetesPackages: '/kubernetes/core/stable',
  dockerPackages: '/docker',
  files: '/files',
  registries: { 'registry.k8s.io': '/registry.k8s.io', 'ghcr.io': '/ghcr.io' },
} as const;

/** Everything built for the site, with each step's time. */
export interface SiteBuild {
  programs: Programs;
  debs: Debs;
  images: Images;
  etcd: EtcdTarball;
}

/** Builds (or finds cached) the programs, the packages, the images and the etcd tarball. */
export async function buildSite(log: (line: string) => void): Promise<SiteBuild> {
  const programs = await buildPrograms(log);
  const debs = await buildDebs(programs, log);
  const images = await buildImages(programs, log);
  const etcd = await etcdTarball(programs);
  return { programs, debs, images, etcd };
}

/** The inventory keys a site operator adds for this site at address (an IP or host name, port 443). */
export function siteMirrors(address: string, built: SiteBuild) {
  const base = `https://${address}`;
  return {
    mirrors: {
      kubernetesPackages: `${base}${SITE_PATHS.kubernetesPackages}`,
      dockerPackages: `${base}${SITE_PATHS.dockerPackages}`,
      files: `${base}${SITE_PATHS.files}`,
      registries: Object.fromEntries(Object.entries(SITE_PATHS.registries).map(([registry, path]) => [registry, `${base}${path}`])),
    },
    etcd: {
      install: 'release' as const,
      version: SITE_VERSIONS.etcd,
      tarballs: { amd64: { url: `${base}${SITE_PATHS.files}/${built.etcd.upstreamPath}`, sha256: built.etcd.sha256 } },
    },
  };
}

/** A filled site folder. */
export interface Site {
  dir: string;
  www: string;
  origin: string;
  host: string;
  caCert: string;
  tls: SiteTls;
  allow: AllowList;
  registryStorage: string;
  programs: Programs;
  /** What the fill did beyond the list or could not fill, one sentence each (for the report). */
  notes: string[];
}

/**
 * Several artifact lists as one, each entry once (by URL, or by image): a site for an upgrade serves the list of the
 * inventory before and the one after, e.g. both Kubernetes streams and both versions' images.
 */
export function mergeArtifactLists(...lists: ArtifactList[]): ArtifactList {
  const once = <T>(items: T[], key: (item: T) => string): T[] => [...new Map(items.map((i) => [key(i), i])).values()];
  return {
    downloads: once(
      lists.flatMap((l) => l.downloads),
      (d) => d.url,
    ),
    repositories: once(
      lists.flatMap((l) => l.repositories),
      (r) => `${r.format} ${r.url}`,
    ),
    images: once(
      lists.flatMap((l) => l.images),
      (i) => i.image,
    ),
  };
}

/** The site's origin: the one origin every mirror URL of the list shares. */
function originOf(list: ArtifactList): string {
  const urls = [...list.repositories.map((r) => r.url), ...list.downloads.map((d) => d.url)];
  const origins = [...new Set(urls.map((u) => new URL(u.replace(/\$/g, '')).origin))];
  if (origins.length !== 1) throw new Error(`gen artifacts names ${origins.length} origins (${origins.join(', ')}): the site is one origin`);
  return origins[0]!;
}

/** The Debian repository of download.docker.com that run.sh configures, when the list lacks it (issue 24). */
function dockerDebianBeyondList(list: ArtifactList): ExtraRepository[] {
  if (list.repositories.some((r) => r.format === 'deb' && /\/linux\/debian\/?$/.test(r.url))) return [];
  const rpm = list.repositories.find((r) => r.format === 'rpm' && r.url.includes('/linux/centos/'));
  if (!rpm) return [];
  const base = rpm.url.slice(0, rpm.url.indexOf('/linux/centos/'));
  return [
    {
      what: 'containerd.io for debian',
      url: `${base}/linux/debian`,
      key: `${base}/linux/debian/gpg`,
      why: "gen artifacts lists no Debian repository of download.docker.com although run.sh's docker-apt-repo step configures BASE/linux/debian (issue 24): the site serves it from the rpm entry's base",
    },
  ];
}

/** Writes the apt repositories the list names (and the Docker one it lacks) into www; returns notes. */
function fillRepositories(list: ArtifactList, extra: ExtraRepository[], built: SiteBuild, site: { dir: string; www: string; origin: string }): string[] {
  const notes: string[] = [];
  const date = new Date();
  const k8sKey = makeSigningKey(join(site.dir, 'gnupg/kubernetes'), 'kubeha e2e site: Kubernetes packages <kubernetes@site.kubeha.test>');
  const dockerKey = makeSigningKey(join(site.dir, 'gnupg/docker'), 'kubeha e2e site: Docker packages <docker@site.kubeha.test>');
  const path = (url: string) => join(site.www, decodeURIComponent(new URL(url).pathname));
  for (const r of [...list.repositories, ...extra.map((e) => ({ ...e, format: 'deb' as const }))]) {
    const stream = /\/(v1\.[0-9]+)\/deb\/$/.exec(r.url)?.[1];
    const debs = stream === undefined ? undefined : built.debs.kubernetes[stream];
    if (r.format === 'deb' && stream && debs) writeKubernetesRepo(path(r.url), debs, k8sKey, stream, date);
    else if (r.format === 'deb' && /\/linux\/debian\/?$/.test(r.url)) writeDockerRepo(path(r.url), built.debs.docker, dockerKey, date);
    else notes.push(`not filled: ${r.format} ${r.url} (${r.what}): the site builds Debian 12 packages of Kubernetes ${KUBERNETES_VERSIONS.join(' and ')} only`);
  }
  for (const e of extra) notes.push(`beyond the list: ${e.url}: ${e.why}`);
  return notes;
}

/** Puts every listed download in www, checking its SHA-256 (only the site's etcd tarball can be filled). */
function fillDownloads(list: ArtifactList, built: SiteBuild, www: string): void {
  for (const d of list.downloads) {
    const path = decodeURIComponent(new URL(d.url).pathname);
    if (!path.endsWith(`/${built.etcd.upstreamPath}`)) throw new Error(`the site cannot make ${d.url} (${d.what}): it builds etcd v${SITE_VERSIONS.etcd} only`);
    if (d.sha256 !== built.etcd.sha256)
      throw new Error(`${d.url}: gen artifacts says sha256 ${d.sha256}, the site's tarball is ${built.etcd.sha256} (take etcd.tarballs from siteMirrors)`);
    mkdirSync(dirname(join(www, path)), { recursive: true });
    copyFileSync(built.etcd.path, join(www, path));
  }
}

/** Fills a fresh folder with the site for this artifact list: CA and certificates, signed repositories, files, registry. */
export async function fillSite(list: ArtifactList, built: SiteBuild, dir: string, log: (line: string) => void): Promise<Site> {
  const origin = originOf(list);
  const host = new URL(origin).hostname;
  const www = join(dir, 'www');
  mkdirSync(www, { recursive: true });
  const tls = makeSiteTls(join(dir, 'tls'), host);
  const extra = dockerDebianBeyondList(list);
  const notes = fillRepositories(list, extra, built, { dir, www, origin });
  fillDownloads(list, built, www);
  const storage = await registryStorage(list, built, log);
  const digests = Object.fromEntries(storage.images.map((i) => [i.image, layoutDigests(i.layout)]));
  notes.push(...storage.notes);
  const allow = allowListOf(list, origin, extra, digests);
  writeFileSync(join(dir, 'allow.json'), `${JSON.stringify(allow, null, 2)}\n`);
  return { dir, www, origin, host, caCert: tls.caCert, tls, allow, registryStorage: storage.dir, programs: built.programs, notes };
}
