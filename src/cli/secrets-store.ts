/** Loads and saves the secrets folder: 0700 folders, 0600 files, replaced as a whole or not at all. */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, basename } from 'node:path';
import { parseTokens, formatTokens, TOKENS_FILE, type Secrets } from '../pki/secrets.js';
import { SecretsError } from '../pki/errors.js';
import { swapIn, writeDurably, type Staged } from './atomic.js';

const SECRET_FILE = /\.(crt|key|pub)$/;

/** Reads the secrets folder; a missing folder is an empty bundle, an unreadable one an error. */
export function loadSecrets(dir: string): Secrets {
  if (!existsSync(dir)) {
    const old = `${dir}.kubeha-old`;
    if (existsSync(old)) throw new SecretsError([`${dir}: missing, but ${old} was left by an interrupted run: rename it back to ${basename(dir)}`]);
    return { files: new Map(), tokens: null };
  }
  const files = new Map<string, string>();
  const problems: string[] = [];
  let tokens: Secrets['tokens'] = null;
  const walk = (folder: string) => {
    let entries;
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch (error) {
      problems.push(`${folder}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      return;
    }
    for (const entry of entries) {
      const path = join(folder, entry.name);
      const rel = relative(dir, path).split('\\').join('/');
      if (entry.isDirectory()) { walk(path); continue; }
      if (!entry.isFile() || (!SECRET_FILE.test(rel) && rel !== TOKENS_FILE)) continue;
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (error) {
        problems.push(`${path}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
        continue;
      }
      if (rel === TOKENS_FILE) {
        const parsed = parseTokens(text);
        parsed.problems.forEach((p) => problems.push(`${path}: ${p}`));
        tokens = parsed.tokens;
      } else if (!/^-----BEGIN [A-Z ]+-----\n[\s\S]+\n-----END [A-Z ]+-----\n?$/.test(text)) {
        problems.push(`${path}: not a complete PEM file (empty or cut short?); restore it from your backup`);
      } else {
        files.set(rel, text);
      }
    }
  };
  walk(dir);
  if (problems.length) throw new SecretsError(problems);
  return { files, tokens };
}

/** Writes the whole bundle (0700 folders, 0600 files) to a sibling folder, to be swapped in by commit. */
export function stageSecrets(dir: string, secrets: Secrets): Staged {
  const fresh = `${dir}.kubeha-new`;
  rmSync(fresh, { recursive: true, force: true });
  try {
    mkdirSync(fresh, { recursive: true, mode: 0o700 });
    chmodSync(fresh, 0o700);
    const all = new Map(secrets.files);
    if (secrets.tokens) all.set(TOKENS_FILE, formatTokens(secrets.tokens));
    for (const [rel, text] of all) {
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
export function saveSecrets(dir: string, secrets: Secrets): void {
  stageSecrets(dir, secrets).commit();
}
