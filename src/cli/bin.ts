#!/usr/bin/env node
/** The `gen` executable: runs main with the process's arguments and sets the exit status. */
import { main } from './main.js';

const status = await main(process.argv.slice(2));
// A failed write to stdout or stderr (other than a reader that went away) has set 1 already: keep the worse status.
process.exitCode = Math.max(status, Number(process.exitCode ?? 0));
