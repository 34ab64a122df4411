/** Runs `gen` in this process like the executable does, then reports peak memory on stderr as JSON. */
import { main } from '../src/cli/main.js';

const code = await main(process.argv.slice(2));
process.stderr.write(`\n${JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS, code })}\n`);
process.exitCode = code;
