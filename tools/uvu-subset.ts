/**
 * `node dist/tools/uvu-subset.js NAME...`: runs dist/test/NAME.test.js in one uvu process, in the order given, and
 * stops at the first failure (the test command of `npm run mutate`: the test that kills most mutants goes first).
 */
import { fileURLToPath } from 'node:url';
import { run } from 'uvu/run';

const TESTS = fileURLToPath(new URL('../test/', import.meta.url));

await run(
  process.argv.slice(2).map((name) => ({ name: `${name}.test.js`, file: `${TESTS}${name}.test.js` })),
  { bail: true },
);
