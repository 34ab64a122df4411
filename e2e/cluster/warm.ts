/**
 * `node dist/e2e/cluster/warm.js [COMPONENT...]`: builds (or finds cached) the e2e site's programs and prints each
 * component's time, cold or cached: the way to warm /var/cache/kubeha-e2e before a cluster run.
 */
import { buildPrograms } from './programs.js';
import { COMPONENTS } from './components.js';

const wanted = process.argv.slice(2);
const components = wanted.length ? COMPONENTS.filter((c) => wanted.includes(c.id)) : COMPONENTS;
const log = (line: string): void => console.log(`[site] ${line}`);
const started = performance.now();
const programs = await buildPrograms(log, components);
for (const b of programs.components) console.log(`${b.component.id} ${b.component.version}: ${b.cached ? 'cached' : `${b.seconds.toFixed(0)} s`}  ${b.dir}`);
console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
