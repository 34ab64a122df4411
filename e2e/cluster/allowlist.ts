/**
 * What the site may serve, from `gen artifacts --json` alone: every request is either for something the list names
 * (a listed download URL, a path inside a listed package repository or its signing key, a listed image's manifest by
 * its tag or digest and its blobs) or it is recorded as unlisted, and the run fails with it. Pure.
 */
import type { ArtifactList } from '../../src/render/mirror-list.js';

/** A repository the site serves although `gen artifacts` does not list it (its requests are reported apart). */
export interface ExtraRepository {
  what: string;
  url: string;
  key: string;
  why: string;
}

/** The list in the shape the server checks requests against (paths only: the site has one origin). */
export interface AllowList {
  origin: string;
  files: { path: string; what: string }[];
  repositories: { prefix: string; key: string; what: string; beyondList?: string }[];
  images: { repository: string; tag: string; digests: string[]; what: string }[];
}

/** The verdict on one request. */
export type Verdict = { listed: true; what: string } | { listed: false; why: string; beyondList?: string; what?: string };

/** The path of a URL on the site's origin, or an error naming the URL when it points elsewhere. */
function sitePath(origin: string, url: string): string {
  const u = new URL(url);
  if (u.origin !== origin) throw new Error(`${url} is not on the site (${origin}): the inventory's mirrors must point at the site`);
  return decodeURIComponent(u.pathname);
}

/** An image reference split into registry host, repository and tag. */
export function splitImage(image: string): { host: string; repository: string; tag: string } {
  const slash = image.indexOf('/');
  const colon = image.lastIndexOf(':');
  if (slash < 0 || colon < slash) throw new Error(`image ${image} has no registry or no tag`);
  return { host: image.slice(0, slash), repository: image.slice(slash + 1, colon), tag: image.slice(colon + 1) };
}

/**
 * The allow list of a site at origin (https://HOST[:PORT]) from the artifact list, the repositories the site serves
 * beyond it, and each listed image's digests (what its manifest names; empty when unknown).
 */
export function allowListOf(list: ArtifactList, origin: string, extra: ExtraRepository[], digests: Record<string, string[]>): AllowList {
  const host = new URL(origin).host;
  const repositories: AllowList['repositories'] = list.repositories
    .filter((r) => r.format === 'deb')
    .map((r) => ({ prefix: withSlash(sitePath(origin, r.url)), key: sitePath(origin, r.key), what: r.what }));
  for (const r of extra) repositories.push({ prefix: withSlash(sitePath(origin, r.url)), key: sitePath(origin, r.key), what: r.what, beyondList: r.why });
  const images = list.images.map((i) => {
    const split = splitImage(i.image);
    if (split.host !== host && `${split.host}:443` !== host)
      throw new Error(`image ${i.image} is not on the site (${host}): mirrors.registries must point at the site`);
    return { repository: split.repository, tag: split.tag, digests: digests[i.image] ?? [], what: `image ${i.image}` };
  });
  return { origin, files: list.downloads.map((d) => ({ path: sitePath(origin, d.url), what: d.what })), repositories, images };
}

/** A folder path with its trailing slash. */
function withSlash(path: string): string {
  return path.endsWith('/') ? path : `${path}/`;
}

/** The verdict on a registry API path (/v2/...). */
function classifyRegistry(allow: AllowList, path: string): Verdict {
  if (path === '/v2/' || path === '/v2') return { listed: true, what: 'registry API version check' };
  const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(path);
  if (!m) return { listed: false, why: 'not a manifest or blob of the registry API' };
  const [, repository, kind, ref] = m as unknown as [string, string, string, string];
  const images = allow.images.filter((i) => i.repository === repository);
  if (images.length === 0) return { listed: false, why: `image repository ${repository} is not listed` };
  const byTag = kind === 'manifests' ? images.find((i) => i.tag === ref) : undefined;
  if (byTag) return { listed: true, what: byTag.what };
  const byDigest = images.find((i) => i.digests.includes(ref));
  if (byDigest) return { listed: true, what: byDigest.what };
  return { listed: false, why: `${repository} ${kind === 'manifests' ? `tag or digest ${ref}` : `blob ${ref}`} is not part of a listed image` };
}

/** The verdict on one request: method and the raw request target (percent-encoded path, maybe a query). */
export function classify(allow: AllowList, method: string, target: string): Verdict {
  if (method !== 'GET' && method !== 'HEAD') return { listed: false, why: `method ${method}: the site is read-only` };
  let path: string;
  try {
    path = decodeURIComponent(new URL(target, allow.origin).pathname);
  } catch {
    return { listed: false, why: 'a path that does not decode' };
  }
  if (path.split('/').includes('..')) return { listed: false, why: 'a path with ..' };
  if (path.startsWith('/v2/') || path === '/v2') return classifyRegistry(allow, path);
  const file = allow.files.find((f) => f.path === path);
  if (file) return { listed: true, what: file.what };
  for (const r of allow.repositories) {
    if (path !== r.key && !path.startsWith(r.prefix)) continue;
    const what = path === r.key ? `${r.what} (signing key)` : r.what;
    return r.beyondList ? { listed: false, why: 'a repository gen artifacts does not list', beyondList: r.beyondList, what } : { listed: true, what };
  }
  return { listed: false, why: 'not a listed download, repository or image' };
}
