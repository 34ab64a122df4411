/**
 * The etcd release tarball the site's files mirror serves, in upstream's shape: etcd-vX-linux-amd64.tar.gz with a
 * top folder etcd-vX-linux-amd64/ holding etcd, etcdctl and etcdutl. Made from the built programs with fixed
 * owners and times and cached with them, so its SHA-256 (what the inventory's etcd.tarballs carries) is stable.
 */
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { runOrThrow } from '../proc.js';
import { cachedDir, keyOf, sha256File } from './cache.js';
import { component } from './components.js';
import type { Programs } from './programs.js';

/** The tarball: its path, SHA-256, and its path under the files mirror (upstream host + path). */
export interface EtcdTarball {
  path: string;
  sha256: string;
  upstreamPath: string;
}

/** Builds (or finds cached) the tarball of the built etcd. */
export async function etcdTarball(programs: Programs): Promise<EtcdTarball> {
  const version = component('etcd').version;
  const name = `etcd-${version}-linux-amd64`;
  const etcdDir = programs.components.find((c) => c.component.id === 'etcd')!.dir;
  const made = await cachedDir('etcd-tarball', keyOf({ etcdDir, name }), (tmp) => {
    const top = join(tmp, 'stage', name);
    mkdirSync(top, { recursive: true });
    for (const p of ['etcd', 'etcdctl', 'etcdutl']) {
      copyFileSync(programs.paths[p]!, join(top, p));
      chmodSync(join(top, p), 0o755);
    }
    const tar = join(tmp, `${name}.tar`);
    runOrThrow(['tar', '--sort=name', '--mtime=@1784743658', '--owner=0', '--group=0', '--numeric-owner', '-C', join(tmp, 'stage'), '-cf', tar, name], 300_000);
    writeFileSync(`${tar}.gz`, gzipSync(readFileSync(tar), { level: 9 }));
    rmSync(tar);
    rmSync(join(tmp, 'stage'), { recursive: true });
  });
  const path = join(made.dir, `${name}.tar.gz`);
  return { path, sha256: sha256File(path), upstreamPath: `github.com/etcd-io/etcd/releases/download/${version}/${name}.tar.gz` };
}
