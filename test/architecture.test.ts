/**
 * The architecture as a table, checked on every file of src/ with the TypeScript compiler's own parse (its list of
 * module specifiers: static, type-only, re-exports, dynamic import()): which layer may import which, which packages
 * and Node built-ins each layer may use, and that only cli/ touches files, processes, threads, the clock or randomness.
 */
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SyntaxKind, type Node, type SourceFile } from 'typescript/unstable/ast';
import { REPO } from './helpers.js';
import { nodesOf, parseFiles } from './source-tree.js';

const SRC = join(REPO, 'src');

/**
 * What each part of src/ may import from src/. The chain common → inventory → model → pki | render → bundle → cli:
 * a layer may import the layers below it, pki and render not each other (render reads only two data files of pki:
 * the shape of the secrets and the certificate list, which says where each file is installed), and bundle only packs files (it renders nothing). review (gen diff) compares bundles and inspects
 * certificates; docs turns the schema into Markdown. index.ts is compile(), the entry of the pure core.
 */
const MAY_IMPORT: Record<string, readonly string[]> = {
  common: [],
  inventory: ['common'],
  model: ['common', 'inventory'],
  pki: ['common', 'inventory', 'model'],
  render: ['common', 'inventory', 'model', 'pki/secrets.ts', 'pki/cert-list.ts'],
  bundle: ['common'],
  review: ['common', 'bundle', 'pki'],
  docs: ['common'],
  'index.ts': ['common', 'inventory', 'model', 'pki', 'render', 'bundle'],
  // cli reaches render only through its entries: compile() (index.ts), the picture and the mirror list (loaded on
  // demand by gen plan and gen artifacts); a name render uses and cli needs lives in common or is exported by index.ts.
  cli: ['common', 'inventory', 'model', 'pki', 'bundle', 'review', 'docs', 'index.ts', 'render/picture/index.ts', 'render/mirror-list.ts'],
};

/** Files outside src/ a layer may import. */
const MAY_IMPORT_OUTSIDE: Record<string, readonly string[]> = {
  inventory: ['schema/inventory.schema.json'],
};

/** Packages and Node built-ins, and the layers that may use each; cli/ may use any of them. */
const PACKAGES: Record<string, readonly string[]> = {
  'node:crypto': ['model', 'pki', 'render', 'bundle', 'review'],
  'node:zlib': ['bundle'],
  'node:path': ['inventory'],
  ajv: ['inventory'],
  'ajv-formats': ['inventory'],
  'ipaddr.js': ['inventory'],
  'js-yaml': ['inventory', 'render'],
  ejs: ['render'],
  'smol-toml': ['render'],
  '@peculiar/x509': ['pki'],
  'reflect-metadata': ['pki'],
  archiver: ['bundle'],
  diff: ['review'],
};

/** Globals that reach outside a pure function, by what they touch. */
const GLOBALS: Record<string, string> = {
  process: 'the process',
  require: 'the module loader',
  globalThis: 'the global object',
  setTimeout: 'the clock',
  setInterval: 'the clock',
  setImmediate: 'the clock',
  performance: 'the clock',
};
/** Randomness by name: Node's crypto functions and the Web Crypto calls on the global `crypto`. */
const RANDOM = new Set([
  'randomBytes',
  'randomUUID',
  'randomInt',
  'randomFill',
  'randomFillSync',
  'generateKey',
  'generateKeySync',
  'generateKeyPair',
  'generateKeyPairSync',
  'getRandomValues',
  'webcrypto',
  'subtle',
]);

/** The part of src/ a path belongs to: its first folder, or the file name for files at the top. */
function partOf(rel: string): string {
  return rel.split('/')[0]!;
}

/** Whether `target` (a path relative to src/, .ts) is allowed by an entry of the table (a part or one file). */
function allowedBy(entries: readonly string[], target: string): boolean {
  return entries.some((e) => e === partOf(target) || e === target);
}

/** The problems of one import of `rel` (a path relative to src/). */
function importProblem(rel: string, specifier: string): string | null {
  const part = partOf(rel);
  if (specifier.startsWith('.')) {
    const absolute = resolve(dirname(join(SRC, rel)), specifier);
    const target = relative(SRC, absolute).replace(/\.js$/, '.ts');
    if (target.startsWith('..')) {
      const outside = relative(REPO, absolute);
      return (MAY_IMPORT_OUTSIDE[part] ?? []).includes(outside) ? null : `imports ${outside}, outside src/`;
    }
    if (partOf(target) === part) return null;
    return allowedBy(MAY_IMPORT[part] ?? [], target)
      ? null
      : `imports ${target}: ${part} may import ${(MAY_IMPORT[part] ?? []).join(', ') || 'nothing of src/'}`;
  }
  if (part === 'cli') return null;
  const isBuiltin = specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0]!);
  const name = isBuiltin
    ? `node:${specifier.replace(/^node:/, '')}`
    : specifier
        .split('/')
        .slice(0, specifier.startsWith('@') ? 2 : 1)
        .join('/');
  const users = PACKAGES[name];
  if (users?.includes(part)) return null;
  return `imports ${specifier}: ${users ? `only ${users.join(', ')} and cli may` : `only cli may (add it to the table if ${part} really needs it)`}`;
}

const nameOf = (node: Node | undefined): string | undefined => (node?.kind === SyntaxKind.Identifier ? (node as unknown as { text: string }).text : undefined);

/** Whether `name` is a parameter of a function around `node` (an injected port such as `crypto`, not the global). */
function isParameter(node: Node, name: string): boolean {
  for (let at: Node | undefined = node.parent; at; at = at.parent) {
    const parameters = (at as unknown as { parameters?: readonly { name: Node }[] }).parameters;
    if (parameters?.some((p) => nameOf(p.name) === name)) return true;
  }
  return false;
}

/** What one expression touches outside a pure function (the clock, randomness, the process...), or null. */
function impurity(node: Node): string | null {
  const n = node as unknown as Record<string, Node & { text?: string }> & Node;
  if (node.kind === SyntaxKind.PropertyAccessExpression) {
    const object = nameOf(n.expression);
    const property = nameOf(n.name);
    if (object === 'Date' && property === 'now') return 'the clock (Date.now)';
    if (object === 'Math' && property === 'random') return 'randomness (Math.random)';
    if (object === 'crypto' && property && RANDOM.has(property) && !isParameter(node, 'crypto')) return `randomness (crypto.${property})`;
    return null;
  }
  if (node.kind === SyntaxKind.NewExpression || node.kind === SyntaxKind.CallExpression) {
    const args = (n as unknown as { arguments?: readonly Node[] }).arguments ?? [];
    return nameOf(n.expression) === 'Date' && args.length === 0 ? 'the clock (Date without an argument)' : null;
  }
  if (node.kind === SyntaxKind.Identifier) {
    const name = nameOf(node)!;
    const parent = node.parent as unknown as Record<string, Node> & Node;
    const isPropertyName = parent && 'name' in parent && parent.name === node && parent.kind !== SyntaxKind.ShorthandPropertyAssignment;
    return GLOBALS[name] && !isPropertyName ? `${GLOBALS[name]} (${name})` : null;
  }
  if (node.kind === SyntaxKind.ImportSpecifier) {
    const imported = nameOf((n as unknown as { propertyName?: Node }).propertyName) ?? nameOf(n.name);
    return imported && RANDOM.has(imported) ? `randomness (imports ${imported})` : null;
  }
  return null;
}

/** Every .ts file below a folder, relative to src/. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) =>
    statSync(join(dir, n)).isDirectory() ? sources(join(dir, n)) : n.endsWith('.ts') ? [relative(SRC, join(dir, n))] : [],
  );
}

/** src/ parsed once with the project's tsconfig: each file's source tree by path relative to src/. */
function parseSources(): Map<string, SourceFile> {
  const trees = parseFiles(sources(SRC).map((rel) => join('src', rel)));
  return new Map([...trees].map(([path, tree]) => [relative('src', path), tree]));
}

const parsed = parseSources();

test('every part of src/ has a row in the import table', () => {
  const parts = [...new Set([...parsed.keys()].map(partOf))].sort();
  assert.equal(
    parts.filter((p) => !(p in MAY_IMPORT)),
    [],
    'a new folder of src/ needs its row in MAY_IMPORT',
  );
  assert.ok(parsed.size > 40, `only ${parsed.size} files parsed`);
  for (const [rel, file] of parsed) assert.ok(file, `${rel} was not parsed`);
});

test('imports follow the table: common → inventory → model → pki | render → bundle → cli; review and docs beside', () => {
  const problems: string[] = [];
  let imports = 0;
  for (const [rel, file] of parsed) {
    for (const specifier of file.imports.map((s) => (s as unknown as { text: string }).text)) {
      imports++;
      const problem = importProblem(rel, specifier);
      if (problem) problems.push(`src/${rel} ${problem}`);
    }
  }
  assert.ok(imports > 150, `only ${imports} imports seen`);
  assert.equal(problems, []);
});

test('only cli/ touches the process, the clock, timers, randomness or the module loader', () => {
  const problems: string[] = [];
  for (const [rel, file] of parsed) {
    if (partOf(rel) === 'cli') continue;
    for (const node of nodesOf(file as unknown as Node)) {
      const what = impurity(node);
      if (what) problems.push(`src/${rel}:${file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1} touches ${what}`);
    }
  }
  assert.equal(problems, []);
});

/** Where cli/ may read the wall clock, and why; everything else takes the command's `now` (issuing, expiry checks, certs). */
const CLOCK_READERS: Record<string, { reads: number; why: string }> = {
  'cli/main.ts': { reads: 1, why: "reads `now` once per command and passes it down in the Machine (issuing, expiry, a lock's age)" },
};

test("cli/ reads the wall clock once per command (main.ts); everything else, a lock's age too, takes the Machine's `now`", () => {
  const reads = new Map<string, number>();
  for (const [rel, file] of parsed) {
    if (partOf(rel) !== 'cli') continue;
    for (const node of nodesOf(file as unknown as Node)) {
      if (impurity(node)?.startsWith('the clock (Date')) reads.set(rel, (reads.get(rel) ?? 0) + 1);
    }
  }
  const allowed = new Map(Object.entries(CLOCK_READERS).map(([rel, r]) => [rel, r.reads]));
  assert.equal([...reads].sort(), [...allowed].sort(), 'read the clock in main.ts and pass `now` down');
});

/** The functions that make a bundle's files: only compile() (index.ts) calls them, so gen and the tests share one path. */
const COMPILE_PARTS = new Set(['renderHostFiles', 'renderRollout', 'bundleFiles']);

test('only index.ts (compile) imports the functions that make bundle and rollout files', () => {
  const importers: string[] = [];
  for (const [rel, file] of parsed) {
    for (const node of nodesOf(file as unknown as Node)) {
      if (node.kind !== SyntaxKind.ImportSpecifier) continue;
      const n = node as unknown as { propertyName?: Node; name: Node };
      const imported = nameOf(n.propertyName) ?? nameOf(n.name);
      if (imported && COMPILE_PARTS.has(imported)) importers.push(`src/${rel} imports ${imported}`);
    }
  }
  assert.equal(importers.sort(), ['src/index.ts imports bundleFiles', 'src/index.ts imports renderHostFiles', 'src/index.ts imports renderRollout']);
});

test("no file of src/ names x509's global crypto provider: every x509 call is given the command's injected Web Crypto", () => {
  const files = [...parsed.keys()].map((rel) => `src/${rel}`);
  const naming = files.filter((rel) => /\bcryptoProvider\b/.test(readFileSync(join(REPO, rel), 'utf8')));
  assert.ok(files.length > 40, `${files.length} files read`);
  assert.equal(naming, [], 'pass deps.crypto to the x509 call instead');
});

/** The one home of the output layout's names (the tarballs, SHA256SUMS, the rollout folder, the picture). */
const LAYOUT_HOME = 'src/common/output-layout.ts';

test(`the names of what gen writes (SHA256SUMS, <host>.tar.gz, ansible/, cluster.svg) are spelled as names in ${LAYOUT_HOME} only`, () => {
  const spelled: string[] = [];
  for (const [rel, file] of parsed) {
    if (`src/${rel}` === LAYOUT_HOME) continue;
    for (const node of nodesOf(file as unknown as Node)) {
      const literal = [
        SyntaxKind.StringLiteral,
        SyntaxKind.NoSubstitutionTemplateLiteral,
        SyntaxKind.TemplateHead,
        SyntaxKind.TemplateMiddle,
        SyntaxKind.TemplateTail,
      ].includes(node.kind);
      const value = literal ? ((node as unknown as { text: string }).text ?? '') : '';
      // A literal that is the name itself (or `${dir}/` before it); messages, usage text and the Ansible tasks'
      // own expressions may mention the names in prose. inventory/ and model/ name the inventory's `ansible` key, and
      // common/ the upstream releases' tarballs (etcd, kube-prometheus).
      if (/^\/?(SHA256SUMS|\.tar\.gz|cluster\.svg|ansible)$/.test(value) && !['inventory', 'model', 'common'].includes(partOf(rel)))
        spelled.push(`src/${rel}:${file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1} ${JSON.stringify(value)}`);
    }
  }
  assert.equal(spelled, [], `use the names of ${LAYOUT_HOME}`);
});

test('"artifact" means a file of a bundle (render/context.ts): the mirror list of gen artifacts names itself otherwise', () => {
  const text = readFileSync(join(SRC, 'render', 'mirror-list.ts'), 'utf8');
  const exported = [...text.matchAll(/^export (?:async )?(?:function|interface|type|const) (\w+)/gm)].map((m) => m[1]!);
  assert.ok(exported.includes('mirrorList'), exported.join(', '));
  // ArtifactList: the old name of MirrorList, kept while e2e/cluster (the lead's area) still uses it.
  assert.equal(
    exported.filter((name) => /artifact/i.test(name) && name !== 'ArtifactList'),
    [],
  );
});

test.run();
