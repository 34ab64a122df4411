/** Facts about the files kubeha writes that every layer shares: their order and how a mode is written. Pure. */

/** A mode as four octal digits, e.g. 0644. */
export function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

/** Orders paths by their UTF-8 bytes, the same on every machine and locale. */
export function byPath(a: { path: string }, b: { path: string }): number {
  return compareUtf8(a.path, b.path);
}

/**
 * Compares strings in UTF-8 byte order without encoding them: UTF-16 code unit order equals it for text
 * without surrogate pairs, which holds for every path kubeha writes (host names and fixed paths are ASCII).
 */
export function compareUtf8(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
