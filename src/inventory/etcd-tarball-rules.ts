/** Named rules about etcd.tarballs: a tarball the inventory gives may not stand in for an upstream release kubeha pins. */
import { ETCD_ARCHES, ETCD_CHECKSUM_SOURCE, pinnedEtcdSha256 } from '../common/etcd-releases.js';
import { pointer, type Problem } from './problems.js';
import type { Rule } from './rules.js';

/**
 * The etcd tarball rules. A different checksum for a pinned release is refused, not warned about: the file would
 * install under an upstream version's name (etcd --version, kubeadm's version check and every later reader believe
 * it), and the likely causes are a wrong copy, a tampered download or a snippet from elsewhere. The price: a private
 * build of a version kubeha pins cannot be installed from a tarball (one of an unpinned version can).
 */
export const etcdTarballRules: readonly Rule[] = [
  {
    name: 'etcd tarballs keep the pinned checksums',
    check: (inv) => {
      const given = inv.etcd.tarballs;
      if (inv.etcd.install !== 'release' || !given) return [];
      const version = inv.etcd.version;
      return ETCD_ARCHES.flatMap(({ arch }): Problem[] => {
        const pinned = pinnedEtcdSha256(version, arch);
        const own = given[arch];
        if (!own || pinned === undefined || own.sha256 === pinned) return [];
        return [
          {
            pointer: pointer('etcd', 'tarballs', arch, 'sha256'),
            severity: 'error',
            message: `etcd v${version} linux-${arch} is an upstream release whose SHA-256 kubeha pins: ${pinned} (${ETCD_CHECKSUM_SOURCE}); this one differs, so the file is not that release (a wrong copy, a private build under an upstream name, or a tampered download): give the upstream tarball's URL (its pinned checksum is checked) or leave etcd.tarballs out and use mirrors.files`,
          },
        ];
      });
    },
  },
];
