/** Runs `gen` in this process like the executable does, then reports peak memory and CPU time on stderr as JSON. */
import { main } from '../src/cli/main.js';

const code = await main(process.argv.slice(2));
const usage = process.resourceUsage();
const cpuSeconds = (usage.userCPUTime + usage.systemCPUTime) / 1e6;
process.stderr.write(`\n${JSON.stringify({ maxRssKb: usage.maxRSS, cpuSeconds, code })}\n`);
process.exitCode = code;
