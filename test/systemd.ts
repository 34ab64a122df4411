/** Runs `systemd-analyze verify` on generated units, with stub programs for ExecStart paths this machine lacks. */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execStartOf } from './etcd-live.js';

/** The nearest existing folder at or above `dir`. */
function existingAncestor(dir: string): string {
  let d = dir;
  while (!existsSync(d)) d = dirname(d);
  return d;
}

/**
 * Verifies units together (a timer needs its service beside it); returns everything systemd-analyze printed, plus the
 * exit status when not 0: '' means clean. An ExecStart program missing here is a stub on a tmpfs in a private mount
 * namespace, mounted over the nearest existing folder of its path, so the host's tree is never touched.
 */
export function verifyUnits(units: Record<string, string>, dir: string): string {
  const paths = Object.entries(units).map(([name, text]) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  });
  const all = Object.values(units)
    .filter((u) => /^ExecStart=/m.test(u))
    .map((u) => execStartOf(u).argv[0]!);
  const folders = [...new Set(all.filter((p) => !existsSync(p)).map((p) => existingAncestor(dirname(p))))];
  // Every program under a stubbed folder is stubbed (the tmpfs hides what was there, say a file an earlier run left).
  const programs = all.filter((p) => folders.some((d) => p.startsWith(`${d}/`)));
  const mounts = folders.map((d) => `mount -t tmpfs kubeha-stub ${d}\n`);
  const stubs = mounts.join('') + programs.map((p) => `mkdir -p ${dirname(p)}\nprintf '#!/bin/sh\\nexit 0\\n' >${p}\nchmod 0755 ${p}\n`).join('');
  const script = `set -e\n${programs.length ? `mount --make-rprivate /\n${stubs}` : ''}systemd-analyze verify --man=no "$@" 2>&1`;
  const r = spawnSync('unshare', ['-m', 'sh', '-c', script, 'sh', ...paths], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}${r.status === 0 ? '' : `exit ${r.status}`}`;
}
