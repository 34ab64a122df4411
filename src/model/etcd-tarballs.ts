/** etcd release tarballs to download: the inventory's own or the pinned upstream ones through mirrors.files. Pure. */
import { ETCD_ARCHES, ETCD_RELEASE_SHA256, type EtcdArch } from '../common/etcd-releases.js';
import type { Download, Mirrors } from '../inventory/types.js';
import { fileUrl } from './mirrors.js';

export interface EtcdTarball extends EtcdArch {
  url: string;
  file: string;
  folder: string;
  sha256: string;
}

/** Tarballs the inventory gives itself (etcd.tarballs), by architecture. */
export type GivenTarballs = Partial<Record<EtcdArch['arch'], Download>>;

/**
 * The tarballs of a version: the inventory's own (URL + SHA-256, used as given), else the pinned upstream ones
 * (through mirrors.files); empty when there is neither (the install then refuses).
 */
export function etcdTarballs(version: string, given: GivenTarballs = {}, mirrors: Pick<Mirrors, 'files'> = {}): EtcdTarball[] {
  const sums = ETCD_RELEASE_SHA256[version] ?? {};
  return ETCD_ARCHES.flatMap((a) => {
    const folder = `etcd-v${version}-linux-${a.arch}`;
    const file = `${folder}.tar.gz`;
    const own = given[a.arch];
    if (own) return [{ ...a, folder, file, sha256: own.sha256, url: own.url }];
    const sha256 = sums[a.arch];
    if (!sha256) return [];
    return [{ ...a, folder, file, sha256, url: fileUrl(mirrors, `https://github.com/etcd-io/etcd/releases/download/v${version}/${file}`) }];
  });
}
