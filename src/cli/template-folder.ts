/** Reads the ejs templates shipped in templates/ into memory, once per process. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Templates } from '../index.js';

/** The templates folder of this installation. */
export const TEMPLATES_DIR = fileURLToPath(new URL('../../../templates/', import.meta.url));

/** Every file under the templates folder, keyed by its relative path. */
export function readTemplates(dir: string = TEMPLATES_DIR): Templates {
  const templates = new Map<string, string>();
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else templates.set(relative(dir, path).split('\\').join('/'), readFileSync(path, 'utf8'));
    }
  };
  walk(dir);
  return templates;
}
