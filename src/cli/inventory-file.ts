/** Reads an inventory file from disk and validates it. */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { decodeInventory } from '../inventory/encoding.js';
import { validateInventory, formatProblem, InventoryError, type Problem } from '../inventory/index.js';
import { buildModel } from '../model/model.js';
import type { ClusterModel } from '../model/types.js';
import type { Console } from './console.js';

/** A validated inventory: its model and its warnings. */
export interface LoadedInventory {
  model: ClusterModel;
  warnings: Problem[];
}

/** Largest inventory read: 4 MiB holds about 25,000 hosts written one key a line; a bigger input is a mistake (/dev/zero, a log). */
export const MAX_INVENTORY_BYTES = 4 * 1024 * 1024;

/** The UTC day of a clock reading, as the rules about dates take it (YYYY-MM-DD). */
export const dayOf = (now: Date): string => now.toISOString().slice(0, 10);

/** Reads and validates an inventory file as of `now` (the command's clock); throws InventoryError with every problem. */
export function readInventory(path: string, now: Date): LoadedInventory {
  const text = readInventoryText(path);
  const result = validateInventory(path, text, dayOf(now));
  if (!result.inventory) throw new InventoryError(path, result.errors);
  return { model: buildModel(result.inventory), warnings: result.warnings };
}

/** How long a pipe's writer may stay silent before the read gives up (a decryption asking for a passphrase, say). */
export const PIPE_WAIT_MS = 120_000;

/** How often a silent pipe is polled. */
const POLL_MS = 20;

/** Sleeps the thread (reads here are synchronous). */
const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * The file's text, read with a bounded read: no more than MAX_INVENTORY_BYTES + 1 bytes are ever read, so a
 * device, a pipe or a growing file cannot keep it reading (their size from stat says nothing: /dev/zero has 0). It is
 * opened without blocking, so a named pipe that nothing writes to ends the read at once instead of blocking open(),
 * and a pipe's silent writer is waited for `pipeWaitMs` at most.
 */
export function readInventoryText(path: string, { pipeWaitMs = PIPE_WAIT_MS } = {}): string {
  const fail = (message: string) => new InventoryError(path, [{ pointer: '', severity: 'error', message }]);
  const cannot = (error: unknown) => fail(`cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  const buffer = Buffer.alloc(MAX_INVENTORY_BYTES + 1);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw cannot(error);
  }
  let length: number;
  try {
    const pipe = fstatSync(fd).isFIFO() || fstatSync(fd).isSocket();
    length = readBounded(fd, buffer, pipe ? pipeWaitMs : null, fail);
    if (pipe && length === 0) throw fail('a named pipe with nothing writing to it: give a file, or a pipe that has a writer such as <(command)');
  } catch (error) {
    throw error instanceof InventoryError ? error : cannot(error);
  } finally {
    closeSync(fd);
  }
  if (length > MAX_INVENTORY_BYTES)
    throw fail(`larger than ${MAX_INVENTORY_BYTES / 1024 / 1024} MiB: not an inventory (kubeha reads at most ${MAX_INVENTORY_BYTES} bytes)`);
  const decoded = decodeInventory(buffer.subarray(0, length));
  if ('problem' in decoded) throw new InventoryError(path, [decoded.problem]);
  return decoded.text;
}

/** Reads into `buffer` until end of file or the buffer is full; a pipe (waitMs set) is polled every POLL_MS while its writer is silent. */
function readBounded(fd: number, buffer: Buffer, waitMs: number | null, fail: (message: string) => Error): number {
  let length = 0;
  let silentPolls = 0;
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buffer, length, buffer.length - length, null);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN' || waitMs === null) throw error;
      // Counting polls, not reading the clock (main.ts reads it once): each poll sleeps POLL_MS at least.
      if (++silentPolls * POLL_MS > waitMs) throw fail(`a pipe whose writer wrote nothing for ${waitMs / 1000} s: kubeha stops waiting (give a file)`);
      pause(POLL_MS);
      continue;
    }
    silentPolls = 0;
    length += n;
    if (n === 0 || length === buffer.length) return length;
  }
}

/** Prints inventory warnings on stderr. */
export function printWarnings(io: Console, file: string, warnings: readonly Problem[]): void {
  for (const w of warnings) io.err(formatProblem(file, w) + '\n');
}
