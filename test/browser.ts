/** Headless Chromium (Debian's package) for tests: a page's DOM after its scripts ran, and a screenshot, each in a fresh profile. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** No network, no first-run work, no sandbox (tests run as root), no GPU: one page, rendered and gone. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--hide-scrollbars',
];

/** Runs chromium on `file` with `extra` flags in a fresh profile; returns its stdout, throws with its stderr when it fails. */
function chromium(file: string, extra: readonly string[]): string {
  const profile = mkdtempSync(join(tmpdir(), 'kubeha-chromium-'));
  try {
    const r = spawnSync('chromium', [...FLAGS, `--user-data-dir=${profile}`, ...extra, file], { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`chromium ${extra.join(' ')} ${file} failed (${r.status ?? r.signal}): ${r.stderr}`);
    return r.stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The DOM of an HTML file once its scripts ran, serialized. */
export function dumpDom(file: string, size: { width: number; height: number }): string {
  return chromium(file, [`--window-size=${size.width},${size.height}`, '--dump-dom']);
}

/** A PNG of `file` at the given window size; returns the PNG's bytes. */
export function screenshot(file: string, png: string, size: { width: number; height: number }): Buffer {
  chromium(file, [`--window-size=${size.width},${size.height}`, `--screenshot=${png}`]);
  return readFileSync(png);
}

/** Width and height from a PNG's IHDR chunk (bytes 16-23). */
export function pngSize(png: Buffer): { width: number; height: number } {
  if (png.subarray(1, 4).toString('latin1') !== 'PNG' || png.subarray(12, 16).toString('latin1') !== 'IHDR') throw new Error('not a PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
