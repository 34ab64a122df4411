/**
 * The previous output folder, read as hostile input: it may hold damaged or foreign tarballs, links, pipes, devices or
 * gzip bombs. Every read is bounded and goes through no link below the folder; what cannot be read says why.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readTarball, TarballError, type TarEntry } from '../bundle/untar.js';
import { TARBALL_SUFFIX, tarballName } from '../common/output-layout.js';
import { visibleName } from '../common/visible.js';
import { entryKind, errnoWords, readRegularFile, ReadRefused } from './hostile-files.js';

/** Largest tarball read: kubeha's are some 30 KiB compressed. */
export const MAX_TARBALL_BYTES = 16 * 1024 * 1024;
/** Largest other file read (SHA256SUMS, the Ansible files): 25,000 hosts (the largest inventory) fit in a few MiB. */
export const MAX_OUTPUT_FILE_BYTES = 16 * 1024 * 1024;

/** An RFC 1123 host name (the schema's dnsName): the hosts kubeha names bundles after. */
const HOST_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** The host a top-level name of the output folder is the bundle of, or null when kubeha never writes that name. */
export function bundleHost(name: string): string | null {
  const host = name.endsWith(TARBALL_SUFFIX) ? name.slice(0, -TARBALL_SUFFIX.length) : '';
  return HOST_NAME.test(host) && host.length <= 253 ? host : null;
}

/** A previous bundle: its bytes and entries, or (bytes when they could be read) why it cannot be reviewed. */
export type PreviousBundle = { host: string; bytes: Buffer; entries: TarEntry[] } | { host: string; bytes: Buffer | null; problem: string };

/** Reads `<dir>/<host>.tar.gz` (bounded, not through a link, no pipe or device); null when nothing has that name. */
export function readPreviousBundle(dir: string, host: string): PreviousBundle | null {
  let bytes: Buffer | null;
  try {
    bytes = readRegularFile(join(dir, tarballName(host)), MAX_TARBALL_BYTES, 'tarball');
  } catch (error) {
    if (error instanceof ReadRefused) return { host, bytes: null, problem: error.reason };
    throw error;
  }
  if (bytes === null) return null;
  try {
    return { host, bytes, entries: readTarball(bytes, host) };
  } catch (error) {
    if (error instanceof TarballError) return { host, bytes, problem: error.message };
    throw error;
  }
}

/** Whether a previous bundle is one kubeha made for its host: every entry inside `<host>/`, and a run.sh file there. */
export function isKubehaBundle(bundle: PreviousBundle | null): bundle is { host: string; bytes: Buffer; entries: TarEntry[] } {
  if (bundle === null || !('entries' in bundle)) return false;
  return bundle.entries.every((e) => !e.outside) && bundle.entries.some((e) => e.path === 'run.sh' && e.type === 'file');
}

/** The hosts of the top-level `<host>.tar.gz` names in `dir` (whatever each is), sorted; none when `dir` is missing. */
export function bundleNames(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return []; // no folder there (yet): no previous output
    throw new ReadRefused(dir, `cannot be listed: ${errnoWords(error)}`);
  }
  return names
    .map(bundleHost)
    .filter((h): h is string => h !== null)
    .sort();
}

/**
 * A file of the output folder at `rel` (`SHA256SUMS`, `ansible/site.yml`), bounded; never read through a link or
 * from a pipe, also not through a linked folder on the way (`ansible -> /etc`). Null when it is missing.
 */
export function readOutputFile(dir: string, rel: string): Buffer | null {
  const parts = rel.split('/');
  for (let i = 1; i < parts.length; i++) {
    const folder = join(dir, ...parts.slice(0, i));
    try {
      const st = lstatSync(folder);
      if (!st.isDirectory())
        throw new ReadRefused(join(dir, rel), `${visibleName(folder)} on its way is ${entryKind(st, folder)}, not a folder: kubeha does not read through it`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error instanceof ReadRefused ? error : new ReadRefused(join(dir, rel), `cannot be read: ${errnoWords(error)}`);
    }
  }
  return readRegularFile(join(dir, rel), MAX_OUTPUT_FILE_BYTES, 'file');
}

/** A file of the previous output as read: its bytes, or why it cannot be read. */
export type PreviousFile = { bytes: Buffer } | { problem: string };

/** What the previous output holds that a new generation replaces or removes: bundles by host, other files by name. */
export interface PreviousOutput {
  /** The bundles of the given hosts that exist (readable or not), and every other kubeha bundle (of removed hosts). */
  bundles: Map<string, PreviousBundle>;
  /** The given files that exist, read or refused. */
  files: Map<string, PreviousFile>;
}

/** Reads what `dir` holds of the given hosts' bundles and files, and the kubeha bundles of other hosts (removed ones). */
export function readPreviousOutput(dir: string, hosts: readonly string[], files: readonly string[]): PreviousOutput {
  const wanted = new Set(hosts);
  const bundles = new Map<string, PreviousBundle>();
  for (const host of bundleNames(dir)) {
    const bundle = readPreviousBundle(dir, host);
    if (bundle && (wanted.has(host) || isKubehaBundle(bundle))) bundles.set(host, bundle);
  }
  const read = new Map<string, PreviousFile>();
  for (const name of files) {
    try {
      const bytes = readOutputFile(dir, name);
      if (bytes) read.set(name, { bytes });
    } catch (error) {
      if (!(error instanceof ReadRefused)) throw error;
      read.set(name, { problem: error.reason });
    }
  }
  return { bundles, files: read };
}
