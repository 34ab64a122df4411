/** The names of what gen writes, in one place: the output folder's files, and the checksum list each bundle holds too. */

/** The checksum list (sha256sum's format): of the tarballs and the rollout in the output folder, and of its files in each bundle. */
export const SUMS_FILE = 'SHA256SUMS';

/** What a host's bundle is named after its host: `<host>.tar.gz`. */
export const TARBALL_SUFFIX = '.tar.gz';

/** A host's bundle in the output folder: `<host>.tar.gz`, holding the folder `<host>/`. */
export function tarballName(host: string): string {
  return `${host}${TARBALL_SUFFIX}`;
}

/** The folder of the Ansible rollout (inventory.ini, site.yml) in the output folder. */
export const ANSIBLE_DIR = 'ansible';

/** The picture of the cluster in the output folder (gen plan --format svg prints the same). */
export const PICTURE_FILE = 'cluster.svg';
