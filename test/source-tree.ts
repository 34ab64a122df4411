/** The project's TypeScript files as the compiler parses them (typescript/unstable/sync, the project's tsconfig). */
import { join } from 'node:path';
import { API } from 'typescript/unstable/sync';
import type { Node, SourceFile } from 'typescript/unstable/ast';
import { REPO } from './helpers.js';

/** Parses the given files (paths relative to the repository) once; returns each one's source tree by that path. */
export function parseFiles(paths: readonly string[]): Map<string, SourceFile> {
  const api = new API({ cwd: REPO });
  try {
    const project = api.updateSnapshot({ openProjects: [join(REPO, 'tsconfig.json')] }).getProjects()[0]!;
    return new Map(paths.map((rel) => [rel, project.program.getSourceFile(join(REPO, rel))!]));
  } finally {
    api.close();
  }
}

/** Every node below (and with) `node`, depth first. */
export function* nodesOf(node: Node): Generator<Node> {
  yield node;
  const children: Node[] = [];
  node.forEachChild((child) => {
    children.push(child);
    return undefined;
  });
  for (const child of children) yield* nodesOf(child);
}

/** The 1-based line of a position in a file. */
export function lineAt(file: SourceFile, position: number): number {
  return file.getLineAndCharacterOfPosition(position).line + 1;
}
