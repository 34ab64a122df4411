#!/usr/bin/env node
/** The `gen` executable: runs main with the process's arguments and sets the exit status. */
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
