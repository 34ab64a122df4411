/** Where the CLI prints: stdout, stderr, and whether stderr is a terminal (for progress lines). */
import { visibleJson } from '../common/visible.js';

/** Output channels; tests pass their own. */
export interface Console {
  out: (text: string) => void;
  err: (text: string) => void;
  /** True when stderr is a terminal: progress lines are drawn there. */
  tty?: boolean;
}

/**
 * A writer for one of the process's streams. When the reader goes away (EPIPE, as with `gen certs | head -1`), later
 * writes are dropped quietly and the command finishes its work; any other write error is reported once and exits 1.
 */
function streamWriter(stream: NodeJS.WriteStream, name: string): (text: string) => void {
  let broken = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (broken) return;
    broken = true;
    if (error.code === 'EPIPE') return;
    process.exitCode = 1;
    if (stream !== process.stderr) process.stderr.write(`gen: cannot write to ${name}: ${error.code ?? error.message}\n`);
  });
  return (text) => {
    if (!broken) stream.write(text);
  };
}

/** The process's own stdout and stderr. */
export const stdConsole: Console = {
  out: streamWriter(process.stdout, 'stdout'),
  err: streamWriter(process.stderr, 'stderr'),
  tty: process.stderr.isTTY === true,
};

/** A progress line redrawn in place on a terminal; silent elsewhere. */
export function progress(io: Console, label: string, total: number): (done: number) => void {
  if (!io.tty || total < 20) return () => {};
  let last = -1;
  return (done) => {
    const percent = Math.floor((done / total) * 100);
    if (percent === last && done !== total) return;
    last = percent;
    io.err(`\r${label} ${done}/${total} (${percent}%)${done === total ? '\r\x1b[K' : ''}`);
  };
}

/** Prints a value as indented JSON on stdout. */
export function printJson(io: Console, value: unknown): void {
  io.out(visibleJson(JSON.stringify(value, null, 2)) + '\n');
}
