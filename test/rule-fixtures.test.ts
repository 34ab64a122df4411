/**
 * Every named validation rule is triggered by a fixture: test/fixtures/invalid/NAME (errors: exit 1, errors.txt) or
 * test/fixtures/warnings/NAME (warnings only: exit 0, warnings.txt). A rule no fixture triggers is a rule no test
 * holds to its message, and a mutant of it survives: add a fixture for it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatProblem } from '../src/inventory/problems.js';
import { parseInventoryText } from '../src/inventory/parse.js';
import { rules } from '../src/inventory/rules.js';
import { checkSchema } from '../src/inventory/schema.js';
import { type SchemaDefaulted, withVersionDefaults } from '../src/inventory/version-defaults.js';
import { assertGolden } from './golden.js';
import { cleanup, FIXTURES, runCli, tempDir, testMachine } from './helpers.js';

/** The day the fixtures are checked on (the rules about dates compare with the CLI's clock): their goldens hold on any day. */
const FIXTURE_DAY = '2026-12-04';

/** A fixture: its folder, its inventory file, and the golden file of what gen prints for it. */
interface Fixture {
  dir: string;
  file: string;
  golden: string;
}

function fixturesIn(kind: 'invalid' | 'warnings', golden: string): Fixture[] {
  const root = join(FIXTURES, kind);
  return readdirSync(root)
    .sort()
    .map((name) => {
      const dir = join(root, name);
      return { dir, file: readdirSync(dir).find((f) => f.startsWith('inventory.'))!, golden: join(dir, golden) };
    });
}

const INVALID = fixturesIn('invalid', 'errors.txt');
const WARNINGS = fixturesIn('warnings', 'warnings.txt');

/** The rules a fixture triggers (its inventory passes the schema), each with the lines it makes. */
function triggered(fixture: Fixture): Map<string, string[]> {
  const parsed = parseInventoryText(fixture.file, readFileSync(join(fixture.dir, fixture.file), 'utf8'));
  const found = new Map<string, string[]>();
  if (!parsed.ok) return found;
  const document = structuredClone(parsed.parsed.value);
  if (checkSchema(document).length) return found;
  const inventory = withVersionDefaults(document as SchemaDefaulted);
  for (const rule of rules) {
    const problems = rule.check(inventory, FIXTURE_DAY);
    if (problems.length)
      found.set(
        rule.name,
        problems.map((p) => formatProblem(fixture.file, p)),
      );
  }
  return found;
}

test('rule names are unique (a fixture is matched to its rule by name)', () => {
  const names = rules.map((r) => r.name);
  assert.equal(
    names.filter((n, i) => names.indexOf(n) !== i),
    [],
  );
  assert.ok(names.length > 30, `only ${names.length} rules`);
});

test("every named rule has a fixture that triggers it, and its message is in that fixture's golden output", () => {
  const covered = new Set<string>();
  for (const fixture of [...INVALID, ...WARNINGS]) {
    const golden = readFileSync(fixture.golden, 'utf8');
    for (const [name, lines] of triggered(fixture)) {
      // A fixture with errors prints no warnings (gen stops at the errors): only its errors must be in its golden.
      for (const line of lines.filter((l) => !(fixture.golden.endsWith('errors.txt') && l.includes(': warning: '))))
        assert.ok(golden.includes(line.replace(/ \(line \d+\)$/, '')), `${fixture.golden} lacks: ${line}`);
      if (lines.some((l) => golden.includes(l.replace(/ \(line \d+\)$/, '')))) covered.add(name);
    }
  }
  assert.equal(
    rules.map((r) => r.name).filter((n) => !covered.has(n)),
    [],
    'rules no fixture triggers: add test/fixtures/invalid/NAME (or warnings/NAME for a warning)',
  );
});

for (const fixture of WARNINGS) {
  const name = fixture.dir.slice(FIXTURES.length + 1);
  test(`${name}: valid, exit 0, and every warning printed with its JSON pointer`, async () => {
    const scratch = tempDir();
    const cwd = process.cwd();
    process.chdir(fixture.dir);
    try {
      const r = await runCli(['validate', fixture.file], testMachine({ now: new Date(`${FIXTURE_DAY}T12:00:00Z`) }));
      assert.is(r.code, 0, r.err);
      assert.match(r.err, ': warning: ', 'a warnings fixture warns');
      assertGolden(fixture.golden, r.err, `${name}/warnings.txt`);
    } finally {
      process.chdir(cwd);
      cleanup(scratch);
    }
  });
}

test.run();
