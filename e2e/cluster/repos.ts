/**
 * The site's two apt repositories, laid out as their upstreams are and signed with GPG keys the run makes (gpg
 * --batch, no passphrase, a throwaway GNUPGHOME): apt on the hosts checks the signatures (no trusted=yes).
 * - pkgs.k8s.io's flat repository: BASE/v1.36/deb/{InRelease,Release,Release.gpg,Release.key,Packages,Packages.gz,
 *   amd64/*.deb}, used as `deb [signed-by=...] BASE/v1.36/deb/ /`.
 * - download.docker.com's Debian repository: BASE/linux/debian/{gpg,dists/bookworm/{InRelease,Release,Release.gpg,
 *   stable/binary-amd64/Packages(.gz)},dists/bookworm/pool/stable/amd64/*.deb}, used as
 *   `deb [signed-by=...] BASE/linux/debian bookworm stable`.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { runOrThrow } from '../proc.js';

/** The header fields of a Release file (Suite, Codename, Components only for a dists/ repository). */
export interface ReleaseHeader {
  origin: string;
  label: string;
  suite?: string;
  codename?: string;
  components?: string;
  description: string;
}

/** A Release file: its header, the date, and SHA256 and SHA512 lines for every index (path relative to the Release). */
export function releaseText(header: ReleaseHeader, date: Date, files: { path: string; content: Buffer }[]): string {
  const sums = (algorithm: 'sha256' | 'sha512') =>
    files.map((f) => ` ${createHash(algorithm).update(f.content).digest('hex')} ${String(f.content.length).padStart(8)} ${f.path}`);
  return `${[
    `Origin: ${header.origin}`,
    `Label: ${header.label}`,
    ...(header.suite ? [`Suite: ${header.suite}`] : []),
    ...(header.codename ? [`Codename: ${header.codename}`] : []),
    'Architectures: amd64',
    ...(header.components ? [`Components: ${header.components}`] : []),
    `Date: ${date.toUTCString().replace('GMT', 'UTC')}`,
    `Description: ${header.description}`,
    'SHA256:',
    ...sums('sha256'),
    'SHA512:',
    ...sums('sha512'),
  ].join('\n')}\n`;
}

/** A signing key made for this run: its GNUPGHOME, fingerprint and ASCII-armored public key. */
export interface SigningKey {
  home: string;
  fingerprint: string;
  armored: string;
}

/** Makes an RSA 3072 signing key with no passphrase in a fresh GNUPGHOME (mode 0700). */
export function makeSigningKey(home: string, uid: string): SigningKey {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const gpg = (...args: string[]) => runOrThrow(['gpg', '--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], 120_000);
  gpg('--quick-gen-key', uid, 'rsa3072', 'sign', 'never');
  const fingerprint = gpg('--with-colons', '--list-secret-keys')
    .split('\n')
    .find((l) => l.startsWith('fpr:'))
    ?.split(':')[9];
  if (!fingerprint) throw new Error(`gpg made no key in ${home}`);
  return { home, fingerprint, armored: gpg('--armor', '--export', fingerprint) };
}

/** Signs dir/Release into InRelease (clear-signed) and Release.gpg (detached, armored), SHA512 digests. */
function signRelease(key: SigningKey, dir: string): void {
  const gpg = (...args: string[]) =>
    runOrThrow(
      [
        'gpg',
        '--homedir',
        key.home,
        '--batch',
        '--yes',
        '--pinentry-mode',
        'loopback',
        '--passphrase',
        '',
        '--local-user',
        key.fingerprint,
        '--digest-algo',
        'SHA512',
        ...args,
      ],
      120_000,
    );
  gpg('--clearsign', '--output', join(dir, 'InRelease'), join(dir, 'Release'));
  gpg('--armor', '--detach-sign', '--output', join(dir, 'Release.gpg'), join(dir, 'Release'));
}

/** Packages of the .deb files under base/sub (dpkg-scanpackages, Filename relative to base), and its gzip. */
function packagesIndex(base: string, sub: string): { packages: Buffer; gz: Buffer } {
  const packages = Buffer.from(runOrThrow(['dpkg-scanpackages', '-m', sub, '/dev/null'], 300_000, base));
  if (!packages.length) throw new Error(`no packages under ${join(base, sub)}`);
  return { packages, gz: gzipSync(packages, { level: 9 }) };
}

/** Copies debs into dir (hard links would tie the site to the cache's inode; copies keep it self-contained). */
function copyDebs(debs: string[], dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const d of debs) copyFileSync(d, join(dir, basename(d)));
}

/** Writes pkgs.k8s.io's flat repository for one minor into dir (…/v1.36/deb), signed by key. */
export function writeKubernetesRepo(dir: string, debs: string[], key: SigningKey, minor: string, date: Date): void {
  copyDebs(debs, join(dir, 'amd64'));
  const { packages, gz } = packagesIndex(dir, 'amd64');
  writeFileSync(join(dir, 'Packages'), packages);
  writeFileSync(join(dir, 'Packages.gz'), gz);
  const header = {
    origin: 'kubeha e2e site',
    label: `Kubernetes ${minor} (pkgs.k8s.io layout)`,
    description: `Kubernetes ${minor} packages built from Go modules`,
  };
  const files = [
    { path: 'Packages', content: packages },
    { path: 'Packages.gz', content: gz },
  ];
  writeFileSync(join(dir, 'Release'), releaseText(header, date, files));
  signRelease(key, dir);
  writeFileSync(join(dir, 'Release.key'), key.armored);
}

/** Writes download.docker.com's Debian repository (bookworm, stable) into dir (…/linux/debian), signed by key. */
export function writeDockerRepo(dir: string, debs: string[], key: SigningKey, date: Date): void {
  const dist = join(dir, 'dists/bookworm');
  copyDebs(debs, join(dist, 'pool/stable/amd64'));
  const { packages, gz } = packagesIndex(dir, 'dists/bookworm/pool/stable/amd64');
  const index = join(dist, 'stable/binary-amd64');
  mkdirSync(index, { recursive: true });
  writeFileSync(join(index, 'Packages'), packages);
  writeFileSync(join(index, 'Packages.gz'), gz);
  const header = {
    origin: 'Docker',
    label: 'Docker CE',
    suite: 'bookworm',
    codename: 'bookworm',
    components: 'stable',
    description: 'containerd.io built from Go modules (kubeha e2e site)',
  };
  const files = [
    { path: 'stable/binary-amd64/Packages', content: packages },
    { path: 'stable/binary-amd64/Packages.gz', content: gz },
  ];
  writeFileSync(join(dist, 'Release'), releaseText(header, date, files));
  signRelease(key, dist);
  writeFileSync(join(dir, 'gpg'), key.armored);
}
