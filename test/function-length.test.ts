/**
 * No function of the code (src/, e2e/, bench/, tools/ and the test helpers) is longer than MAX_LINES unless its doc
 * comment says why, in a sentence starting "Long because". Test bodies are exempt: a scenario reads top to bottom.
 */
import { execFileSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SyntaxKind, type Node, type SourceFile } from 'typescript/unstable/ast';
import { REPO } from './helpers.js';
import { lineAt, nodesOf, parseFiles } from './source-tree.js';

/** The longest a function may be without a reason. */
const MAX_LINES = 40;
const FUNCTIONS = new Set([
  SyntaxKind.FunctionDeclaration,
  SyntaxKind.MethodDeclaration,
  SyntaxKind.ArrowFunction,
  SyntaxKind.FunctionExpression,
  SyntaxKind.Constructor,
]);
const REASON = /\bLong because\b/;

/** Every TypeScript file git tracks in the folders this rule covers (test bodies left out). */
function codeFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', 'src/*.ts', 'e2e/*.ts', 'bench/*.ts', 'tools/*.ts', 'test/*.ts'], { cwd: REPO, encoding: 'utf8' });
  return listed.split('\n').filter((p) => p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.endsWith('.d.ts') && !p.startsWith('test/fixtures/'));
}

/** The doc comment (/** ... *\/) right before a function or before the statement or property that holds it. */
function docComment(file: SourceFile, node: Node): string {
  const text = file.text;
  for (let at: Node | undefined = node, hops = 0; at && hops < 4; at = at.parent, hops++) {
    const leading = text.slice(at.pos, at.getStart(file));
    const start = leading.lastIndexOf('/**');
    if (start >= 0) return leading.slice(start);
  }
  return '';
}

/** `path:line name (N lines)` of every function over MAX_LINES without a reason, in one file. */
function longFunctions(path: string, file: SourceFile): string[] {
  const found: string[] = [];
  for (const node of nodesOf(file as unknown as Node)) {
    if (!FUNCTIONS.has(node.kind)) continue;
    const first = lineAt(file, node.getStart(file));
    const lines = lineAt(file, node.end) - first + 1;
    if (lines > MAX_LINES && !REASON.test(docComment(file, node))) found.push(`${path}:${first} (${lines} lines)`);
  }
  return found;
}

const files = parseFiles(codeFiles());

test('every covered file was parsed', () => {
  assert.ok(files.size > 80, `only ${files.size} files`);
  for (const [path, file] of files) assert.ok(file, `${path} was not parsed`);
});

test(`no function is longer than ${MAX_LINES} lines without a "Long because" in its doc comment`, () => {
  const found = [...files].flatMap(([path, file]) => longFunctions(path, file));
  assert.equal(found, []);
});

test('the rule finds a long function and accepts one whose doc comment gives the reason', () => {
  const path = 'test/fixtures/function-length/long.ts';
  const found = longFunctions(path, parseFiles([path]).get(path)!);
  assert.equal(found, [`${path}:4 (45 lines)`]);
});

test.run();
