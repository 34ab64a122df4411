/** Loads and saves the secrets folder: 0700 folders, 0600 files, replaced as a whole or not at all; what is not kubeha's is kept. */
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseTokens, formatTokens, TOKENS_FILE, type Secrets } from '../pki/secrets.js';
import { SecretsError } from '../pki/errors.js';
import { FolderError } from './folder-error.js';
import { entryExists, swapIn, writeDurably, type Staged } from './atomic.js';
import { carryOver } from './carry-over.js';
import { besidePath } from './folders.js';

const SECRET_FILE = /\.(crt|key|pub)$/;
/** Folders kubeha writes secrets into, besides the top level. Anything else (hidden entries, notes, other folders) is not read. */
const SECRET_FOLDERS = ['etcd'];

/** How loadSecrets reports and fixes permissions: without `warn`, modes are left alone (test fixtures). */
export interface LoadOptions {
  warn?: (text: string) => void;
}

/** Reads the secrets folder (links followed); a missing folder is an empty bundle, an unreadable one an error. */
export function loadSecrets(dir: string, options: LoadOptions = {}): Secrets {
  if (!existsSync(dir)) {
    const old = besidePath(dir, 'old');
    if (existsSync(old))
      throw new FolderError([`${dir}: missing, but ${old} was left by an interrupted run: run gen (or gen certs renew) to put it back`], 'secrets');
    return { files: new Map(), tokens: null };
  }
  if (!isFolder(dir)) throw new FolderError([`${dir}: not a folder; give the folder that holds the CAs, keys and tokens`], 'secrets');
  const files = new Map<string, string>();
  const problems: string[] = [];
  let tokens: Secrets['tokens'] = null;
  for (const copy of [besidePath(dir, 'old'), besidePath(dir, 'fresh')].filter(entryExists)) {
    options.warn?.(`warning: ${copy} was left by an interrupted run and holds copies of secret keys: the next gen (or gen certs renew) removes it\n`);
  }
  tighten(dir, 0o700, options);
  for (const rel of secretPaths(dir, problems, options)) {
    const path = join(dir, rel);
    const text = readSecretFile(path, problems);
    if (text === null) continue;
    tighten(path, 0o600, options);
    if (rel === TOKENS_FILE) {
      const parsed = parseTokens(text);
      for (const p of parsed.problems) problems.push(`${path}: ${p}`);
      tokens = parsed.tokens;
    } else {
      const problem = pemProblem(text);
      if (problem) problems.push(`${path}: ${problem}`);
      else files.set(rel, text);
    }
  }
  if (problems.length) throw new SecretsError(problems);
  return { files, tokens };
}

/** The paths (relative, `/`-separated) of every file that looks like kubeha's: top-level and SECRET_FOLDERS, links followed. */
function secretPaths(dir: string, problems: string[], options: LoadOptions): string[] {
  const paths: string[] = [];
  const list = (rel: string) => {
    const folder = rel ? join(dir, rel) : dir;
    let names: string[];
    try {
      names = readdirSync(folder).sort();
    } catch (error) {
      problems.push(`${folder}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      return;
    }
    for (const name of names.filter((n) => !n.startsWith('.'))) {
      const path = rel ? `${rel}/${name}` : name;
      if (!rel && SECRET_FOLDERS.includes(name) && isFolder(join(dir, name))) {
        tighten(join(dir, name), 0o700, options);
        list(name);
      } else if (SECRET_FILE.test(name) || (!rel && name === TOKENS_FILE)) paths.push(path);
    }
  };
  list('');
  return paths;
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** A secret file's text (through links), or null with a problem: a dangling link, something not a file, unreadable. */
function readSecretFile(path: string, problems: string[]): string | null {
  let isLink = false;
  try {
    isLink = lstatSync(path).isSymbolicLink();
    if (!statSync(path).isFile()) {
      problems.push(`${path}: not a regular file`);
      return null;
    }
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    problems.push(
      isLink
        ? `${path}: a link to ${readlinkSync(path)}, which cannot be read (${code}); restore it or mount it (kubeha never replaces a CA)`
        : `${path}: cannot read: ${code}`,
    );
    return null;
  }
}

/** What is wrong with a PEM file, or null: it must hold exactly one complete block. */
function pemProblem(text: string): string | null {
  if (!/^-----BEGIN [A-Z ]+-----\n[\s\S]+\n-----END [A-Z ]+-----\n?$/.test(text))
    return 'not a complete PEM file (empty or cut short?); restore it from your backup';
  const blocks = text.match(/-----BEGIN [A-Z ]+-----/g)!.length;
  return blocks > 1 ? `holds ${blocks} PEM blocks; kubeha expects exactly one (a certificate bundle is not a CA)` : null;
}

const octal = (mode: number) => `0${(mode & 0o777).toString(8).padStart(3, '0')}`;

/** Removes group and other permissions from a secret file or folder (when options.warn is given), saying so. */
function tighten(path: string, mode: number, options: LoadOptions): void {
  if (!options.warn) return;
  let was: number;
  try {
    was = statSync(path).mode;
  } catch {
    return; // reported by the reader
  }
  if ((was & 0o077) === 0) return;
  try {
    chmodSync(path, mode);
    options.warn(`warning: ${path} was ${octal(was)}, open to other users: set to ${octal(mode)}\n`);
  } catch (error) {
    options.warn(
      `warning: ${path} is ${octal(was)}, open to other users, and cannot be changed (${(error as NodeJS.ErrnoException).code}): make it ${octal(mode)}\n`,
    );
  }
}

/** The files of `next` that differ from `stored` (new or rewritten), by relative path. */
function changedFiles(stored: Secrets, next: Secrets): Map<string, string> {
  const changed = new Map([...next.files].filter(([rel, text]) => stored.files.get(rel) !== text));
  const tokens = next.tokens ? formatTokens(next.tokens) : null;
  if (tokens !== null && (stored.tokens === null || formatTokens(stored.tokens) !== tokens)) changed.set(TOKENS_FILE, tokens);
  return changed;
}

/** Refuses to write a secret whose path in the folder runs through a link (writing through it would bypass the swap). */
function refuseLinkedTargets(dir: string, rels: string[]): void {
  const problems = new Set<string>();
  for (const rel of rels.sort()) {
    const parts = rel.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const path = join(dir, ...parts.slice(0, i));
      let link = false;
      try {
        link = lstatSync(path).isSymbolicLink();
      } catch {
        break;
      }
      if (!link) continue;
      problems.add(
        i < parts.length
          ? `${path} is a link: kubeha must write ${rel} there and does not write through links inside the secrets folder; replace the link by a real folder`
          : `${path} is a link: kubeha must rewrite it and does not write through links inside the secrets folder; replace the link by a regular file`,
      );
      break;
    }
  }
  if (problems.size) throw new SecretsError([...problems]);
}

/**
 * Stages the bundle in a sibling folder, to be swapped in by commit: the files that changed since `stored` are written
 * (0700 folders, 0600 files); everything else in the folder (kubeha's unchanged files, links, notes, .git) is carried over.
 */
export function stageSecrets(dir: string, secrets: Secrets, stored: Secrets = { files: new Map(), tokens: null }): Staged {
  const changed = changedFiles(stored, secrets);
  if (existsSync(dir)) refuseLinkedTargets(dir, [...changed.keys()]);
  const fresh = besidePath(dir, 'fresh');
  rmSync(fresh, { recursive: true, force: true });
  try {
    mkdirSync(fresh, { recursive: true, mode: 0o700 });
    if (existsSync(dir)) carryOver(dir, fresh, (rel) => changed.has(rel));
    chmodSync(fresh, 0o700);
    for (const [rel, text] of changed) {
      const path = join(fresh, rel);
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      writeDurably(path, text, 0o600);
    }
  } catch (error) {
    rmSync(fresh, { recursive: true, force: true });
    throw error;
  }
  return { commit: () => swapIn(fresh, dir), abort: () => rmSync(fresh, { recursive: true, force: true }) };
}

/** Saves the bundle: stage, then swap in. */
export function saveSecrets(dir: string, secrets: Secrets, stored?: Secrets): void {
  stageSecrets(dir, secrets, stored).commit();
}
