/** Mirror rewriting (inventory `mirrors`): package bases, file URLs and image names, each falling back to upstream. Pure. */
import type { Mirrors } from '../inventory/types.js';
import type { ModelMirrors } from './types.js';

/** The upstream bases the package mirrors replace. */
export const UPSTREAM_PACKAGES = {
  kubernetes: 'https://pkgs.k8s.io/core:/stable:',
  docker: 'https://download.docker.com',
} as const;

/** Base URL of the Kubernetes packages (`/v1.XX/deb/` or `/v1.XX/rpm/` follows). */
export function kubernetesPackagesBase(mirrors: Pick<Mirrors, 'kubernetesPackages'>): string {
  return mirrors.kubernetesPackages ?? UPSTREAM_PACKAGES.kubernetes;
}

/** Base URL of docker-ce and containerd.io (`/linux/...` follows). */
export function dockerPackagesBase(mirrors: Pick<Mirrors, 'dockerPackages'>): string {
  return mirrors.dockerPackages ?? UPSTREAM_PACKAGES.docker;
}

/** Where run.sh downloads a file: `<files>/<upstream host><upstream path>` with mirrors.files, else the upstream URL. */
export function fileUrl(mirrors: Pick<Mirrors, 'files'>, upstream: string): string {
  if (mirrors.files === undefined) return upstream;
  const url = new URL(upstream);
  return `${mirrors.files}/${url.host}${url.pathname}`;
}

/** The registry part of an image name or repository (`docker.io` in `docker.io/library/nginx:1`). */
export function registryOf(name: string): string {
  const slash = name.indexOf('/');
  return slash < 0 ? name : name.slice(0, slash);
}

/** A registry mirror URL as an image-name prefix: `https://harbor.example.com/k8s` -> `harbor.example.com/k8s`. */
export function mirrorPrefix(mirrorUrl: string): string {
  return mirrorUrl.replace(/^https:\/\//, '');
}

/** An image name or repository with its registry replaced by that registry's mirror, when there is one. */
export function mirroredName(mirrors: Pick<ModelMirrors, 'registries'>, name: string): string {
  const registry = registryOf(name);
  const mirror = mirrors.registries.get(registry);
  return mirror === undefined ? name : mirrorPrefix(mirror) + name.slice(registry.length);
}

/** An image name as Docker reads it, with its registry: `grafana/grafana:1` is `docker.io/grafana/grafana:1`. */
export function qualifiedImage(image: string): string {
  const first = image.split('/')[0]!;
  return image.includes('/') && (first.includes('.') || first.includes(':')) ? image : `docker.io/${image}`;
}
