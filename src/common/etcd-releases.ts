/** Pinned upstream etcd release tarballs and their SHA-256 checksums, kept as data. */
import { table } from './tables.js';

/** A CPU architecture as etcd names its release tarballs, with the `uname -m` that means it. */
export interface EtcdArch {
  arch: 'amd64' | 'arm64';
  uname: string;
}

/** The architectures kubeha knows release checksums for. */
export const ETCD_ARCHES: readonly EtcdArch[] = [
  { arch: 'amd64', uname: 'x86_64' },
  { arch: 'arm64', uname: 'aarch64' },
];

/** Where the pinned checksums come from, as error messages name it. */
export const ETCD_CHECKSUM_SOURCE = "github.com/etcd-io/etcd/releases, as kubernetes-sigs/kubespray's checksums.yml lists it";

/**
 * SHA-256 of `etcd-v<version>-linux-<arch>.tar.gz` from github.com/etcd-io/etcd/releases, by version then arch.
 * Source: kubernetes-sigs/kubespray roles/kubespray_defaults/vars/main/checksums.yml (etcd_binary_checksums);
 * 3.5.6 amd64 agrees with f110/mono build/private/etcd/assets.bzl. Add a version only with a checksum from a
 * trusted source: a version missing here cannot be installed from the release tarball (use etcd.install = distro).
 */
export const ETCD_RELEASE_SHA256: Readonly<Record<string, Readonly<Partial<Record<EtcdArch['arch'], string>>>>> = table({
  '3.5.21': {
    amd64: 'adddda4b06718e68671ffabff2f8cee48488ba61ad82900e639d108f2148501c',
    arm64: '95bf6918623a097c0385b96f139d90248614485e781ec9bee4768dbb6c79c53f',
  },
  '3.5.22': {
    amd64: '20174ab70a6f3df94da13ecac4610f42c47d25af82426f21c112c2c841ec499a',
    arm64: '22aca5a253c4a9f2850300b0a1dd209587586ff0e985f5cb1c34e9e5edc07848',
  },
  '3.5.23': {
    amd64: '8b50d62d38cb2de005b42227dd14b33f6e01758970f248f9257789ecfaf634c9',
    arm64: 'd95118595a9556a29775f99c1ef2ee16f6be113df76b7178643a2bfd6a6f37c3',
  },
  '3.5.24': {
    amd64: '042497e2ddcee06f22e5d486d81f58affa26b53ee423e2a6aaca3d3ea98c8191',
    arm64: 'efc01f6b3fbef0f000cb53bcad4845c116d7fdd8769ca39d9c40d2fe4d2e509f',
  },
  '3.5.25': {
    amd64: '168af82b59772e1811a9af7b358d42f5c6df44e0d9767afb006ecf12c4bbd607',
    arm64: '419dce0b679df31cc45201ef2449b7a6a48e9d241af01741957c9ac86a35badc',
  },
  '3.5.26': {
    amd64: '0a682a91201dc8351d507210bc30b021a11e254eab806f03224b51e8fad29abb',
    arm64: '93ac1667df0e178ea6d152476ce4088df4075604fe4bc7f85f4719e863cd030b',
  },
  '3.5.27': {
    amd64: '0aad9a9e4e0817a021e933f9806a2b2960a62f949ad5a3d6436d8886945cb1bc',
    arm64: '1277309f540c5a0329c428f95455c9f76d24f768c8d28fd2753e891c379053fa',
  },
});

/** Whether a version can be installed from a release tarball: the inventory gives one, or kubeha pins its checksum. */
export function hasEtcdTarball(version: string, givenArches: readonly string[]): boolean {
  const sums = ETCD_RELEASE_SHA256[version] ?? {};
  return ETCD_ARCHES.some((a) => givenArches.includes(a.arch) || sums[a.arch] !== undefined);
}

/** Versions that can be installed from the release tarball. */
export function knownEtcdReleases(): string[] {
  return Object.keys(ETCD_RELEASE_SHA256);
}

/** The SHA-256 kubeha pins for an upstream release tarball, or undefined when it pins none. */
export function pinnedEtcdSha256(version: string, arch: EtcdArch['arch']): string | undefined {
  return ETCD_RELEASE_SHA256[version]?.[arch];
}
