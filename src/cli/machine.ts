/** What a command takes from the machine it runs on: made once in main.ts and passed down, so a test can set each part. */
import { webcrypto } from 'node:crypto';
import { hostname } from 'node:os';
import { readRegularFile } from './hostile-files.js';

/** The clock, the entropy and the processes one command sees. */
export interface Machine {
  /** The command's clock, read once: certificates are issued and checked against it, and a lock's age is measured by it. */
  now: Date;
  /** The Web Crypto that makes keys, signatures and tokens. */
  crypto: Crypto;
  /** This process as a lock file names it. */
  self: { pid: number; host: string };
  /** Whether a process with this pid runs on this machine (one owned by another user does). */
  alive: (pid: number) => boolean;
  /** The name of the program a pid runs (/proc/PID/comm), or null when it cannot be read. */
  program: (pid: number) => string | null;
}

/**
 * Whether a pid runs here: signal 0 reaches it, or is refused because another user owns it (EPERM: it runs). `kill`
 * is process.kill; a test passes its own (the suite runs as root, which every process lets signal it).
 */
export function processAlive(pid: number, kill: (pid: number, signal: number) => unknown = process.kill): boolean {
  try {
    kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function program(pid: number): string | null {
  try {
    return readRegularFile(`/proc/${pid}/comm`, 64, 'process name')?.toString('utf8').trim() || null;
  } catch {
    return null;
  }
}

/** The real machine at `now`: Node's Web Crypto, this process, the kernel's process table. */
export function realMachine(now: Date): Machine {
  return { now, crypto: webcrypto as unknown as Crypto, self: { pid: process.pid, host: hostname() }, alive: (pid) => processAlive(pid), program };
}
