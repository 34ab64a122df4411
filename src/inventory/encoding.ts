/** Inventory bytes to text: UTF-8 (a byte order mark is kept for the parser); UTF-16, UTF-32 and binary files are named. Pure. */
import type { Problem } from './problems.js';

/** Byte order marks of the encodings an editor may save a file in, longest first (UTF-32 LE starts like UTF-16 LE). */
const MARKS: readonly { bytes: readonly number[]; what: string }[] = [
  { bytes: [0xff, 0xfe, 0, 0], what: 'UTF-32 (little-endian, with a byte order mark)' },
  { bytes: [0, 0, 0xfe, 0xff], what: 'UTF-32 (big-endian, with a byte order mark)' },
  { bytes: [0xff, 0xfe], what: 'UTF-16 (little-endian, with a byte order mark)' },
  { bytes: [0xfe, 0xff], what: 'UTF-16 (big-endian, with a byte order mark)' },
];

/** What a file holding NUL bytes is: UTF-16 without a mark when they fill every other byte, else no text. */
function nulProblem(bytes: Uint8Array, first: number): string {
  const sample = bytes.subarray(0, 4096);
  let even = 0;
  let odd = 0;
  for (let i = 0; i < sample.length; i++) if (sample[i] === 0) i % 2 === 0 ? even++ : odd++;
  const half = Math.floor(sample.length / 2);
  // ASCII text in UTF-16 has a NUL in (nearly) every other byte: the high byte of each code unit.
  if (odd >= half * 0.9 && even === 0) return 'the file is UTF-16 (little-endian, without a byte order mark): save it as UTF-8';
  if (even >= half * 0.9 && odd === 0) return 'the file is UTF-16 (big-endian, without a byte order mark): save it as UTF-8';
  return `the file holds NUL bytes (byte ${first + 1}): not a text file; an inventory is UTF-8 text`;
}

/** The text of an inventory file, or why its bytes are not UTF-8 text (a problem of the whole file). */
export function decodeInventory(bytes: Uint8Array): { text: string } | { problem: Problem } {
  const mark = MARKS.find((m) => m.bytes.every((b, i) => bytes[i] === b));
  const fail = (message: string) => ({ problem: { pointer: '', severity: 'error' as const, message } });
  if (mark) return fail(`the file is ${mark.what}: save it as UTF-8`);
  const nul = bytes.indexOf(0);
  if (nul >= 0) return fail(nulProblem(bytes, nul));
  // ignoreBOM keeps a UTF-8 byte order mark in the text: the parser skips it and keeps offsets those of the file.
  return { text: new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes) };
}
