/** Named rules about inventory `mirrors`: package signing keys that cannot be trusted, what the runtimes cannot express, what another setting overrides. */
import { pointer, type Problem } from './problems.js';
import type { Rule } from './rules.js';
import type { Inventory, SigningKey } from './types.js';

const error = (path: string, message: string): Problem => ({ pointer: path, message, severity: 'error' });
const warning = (path: string, message: string): Problem => ({ pointer: path, message, severity: 'warning' });

/** The package repositories a mirror may replace, with the key of their signing key. */
const PACKAGE_MIRRORS = [
  { base: 'kubernetesPackages', key: 'kubernetesPackagesKey' },
  { base: 'dockerPackages', key: 'dockerPackagesKey' },
] as const;

const plainHttp = (url: string | undefined): boolean => url?.startsWith('http://') === true;

/** The problems of one package repository's signing key: mixed sources, or a key plain HTTP could replace. */
function signingKeyProblems(inv: Inventory, { base, key }: (typeof PACKAGE_MIRRORS)[number]): Problem[] {
  const url = inv.mirrors?.[base];
  const spec: SigningKey = inv.mirrors?.[key] ?? {};
  const basePath = pointer('mirrors', base);
  if (spec.url !== undefined && spec.armored !== undefined)
    return [error(pointer('mirrors', key), 'url and armored exclude each other: armored is the key itself, and nothing is downloaded')];
  if (plainHttp(spec.url) && !spec.fingerprints)
    return [
      error(
        pointer('mirrors', key, 'url'),
        `${spec.url} is plain HTTP: anyone on the path could replace the signing key, and with it every package the nodes install as root; use https, or add fingerprints (run.sh checks the key against them with gpg)`,
      ),
    ];
  if (!plainHttp(url)) return [];
  if (spec.armored === undefined && spec.fingerprints === undefined && spec.url === undefined)
    return [
      error(
        basePath,
        `${url} is plain HTTP, and the repository's signing key would come from it too: anyone on the path could replace the key and the packages the nodes install as root; give mirrors.${key}.fingerprints (run.sh checks the key with gpg), mirrors.${key}.armored (the key itself) or mirrors.${key}.url over https, or use https`,
      ),
    ];
  return [
    warning(
      basePath,
      `${url} is plain HTTP: apt and dnf check every package against the signing key, but anyone on the path sees what the nodes install and can hold back updates (serve an old signed index); prefer https`,
    ),
  ];
}

/** The mirror rules, in the order they report. */
export const mirrorRules: readonly Rule[] = [
  {
    name: 'package signing keys that plain HTTP cannot replace',
    check: (inv) => PACKAGE_MIRRORS.flatMap((m) => signingKeyProblems(inv, m)),
  },
  {
    name: 'docker can use the docker.io mirror',
    check: (inv) => {
      const mirror = inv.mirrors?.registries?.['docker.io'];
      if (inv.cluster.containerRuntime !== 'docker' || mirror === undefined || new URL(mirror).pathname === '/') return [];
      return [
        warning(
          pointer('mirrors', 'registries', 'docker.io'),
          `docker's registry-mirrors takes no path, so ${mirror} cannot be set there: workloads' docker.io images come from docker.io (the cluster's own images are written with their mirror's name and are not affected)`,
        ),
      ];
    },
  },
  {
    name: 'imageRepository and a registry.k8s.io mirror',
    check: (inv) => {
      const mirror = inv.mirrors?.registries?.['registry.k8s.io'];
      if (mirror === undefined || inv.cluster.imageRepository === 'registry.k8s.io') return [];
      return [
        warning(
          pointer('mirrors', 'registries', 'registry.k8s.io'),
          `cluster.imageRepository ${inv.cluster.imageRepository} serves the control-plane, coredns and pause images; this mirror serves only other registry.k8s.io images`,
        ),
      ];
    },
  },
];
