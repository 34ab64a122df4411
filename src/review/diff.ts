/** What a new generation would change against existing bundles: per host, per file. Pure. */
import { SUMS_FILE } from '../common/output-layout.js';
import { createTwoFilesPatch } from 'diff';
import type { BundleFile } from '../bundle/manifest.js';
import { FOLDER_MODE } from '../bundle/tar.js';
import type { TarEntry } from '../bundle/untar.js';
import { fingerprint, parseCertificate } from '../pki/inspect.js';
import { TOKEN_PATTERNS } from '../pki/secrets.js';
import { octal } from '../common/files.js';
import { visibleName, visibleText } from '../common/visible.js';

/** One file's change; `detail` holds a unified diff, a certificate summary or a note. */
export interface FileChange {
  path: string;
  change: 'added' | 'removed' | 'changed';
  detail: string;
}

/** One host's change; `note` says why its previous bundle could not be compared (it cannot be read). */
export interface HostChange {
  host: string;
  change: 'added' | 'removed' | 'changed' | 'unchanged';
  files: FileChange[];
  note?: string;
}

/** An entry of a previous bundle: a file, or (read back from a tarball) anything GNU tar extracts. */
export type OldEntry = BundleFile | TarEntry;

/** A secret value and the placeholder shown instead of it. */
export interface Redaction {
  value: string;
  label: string;
}

/** Files that change whenever another file does; not listed on their own. */
const DERIVED = new Set([SUMS_FILE]);

/** Compares old and new bundles host by host; hosts in `next` order, then removed hosts. */
export function diffBundles(
  old: ReadonlyMap<string, readonly OldEntry[]>,
  next: ReadonlyMap<string, BundleFile[]>,
  redactions: readonly Redaction[],
): HostChange[] {
  const changes: HostChange[] = [];
  for (const [host, files] of next) {
    const before = old.get(host);
    if (!before) {
      changes.push({ host, change: 'added', files: files.filter((f) => !DERIVED.has(f.path)).map((f) => ({ path: f.path, change: 'added', detail: '' })) });
      continue;
    }
    const fileChanges = diffFiles(before, files, redactions);
    changes.push({ host, change: fileChanges.length ? 'changed' : 'unchanged', files: fileChanges });
  }
  for (const [host, files] of old) {
    if (!next.has(host))
      changes.push({ host, change: 'removed', files: files.filter((f) => !DERIVED.has(f.path)).map((f) => ({ path: f.path, change: 'removed', detail: '' })) });
  }
  return changes;
}

/**
 * Compares a previous bundle's entries with new files by path: added, removed, changed (type, mode and content), in
 * path order. The folders the new files imply (with FOLDER_MODE) are no change; any other entry that is not a plain
 * file (a link, a device, a pipe, an extra folder, an entry outside the host folder) is shown as what it is.
 */
export function diffFiles(before: readonly OldEntry[], after: readonly BundleFile[], redactions: readonly Redaction[]): FileChange[] {
  const implied = impliedFolders(after);
  const oldByPath = new Map(before.filter((e) => !isImpliedFolder(e, implied)).map((e) => [keyOf(e), e]));
  const newByPath = new Map(after.map((f) => [f.path, f]));
  const paths = [...new Set([...oldByPath.keys(), ...newByPath.keys()])].filter((p) => !DERIVED.has(p)).sort();
  return paths.flatMap((path): FileChange[] => {
    const a = oldByPath.get(path);
    const b = newByPath.get(path);
    if (!a) return [{ path, change: 'added', detail: isPrivate(b!) ? 'private key' : '' }];
    if (!b && isInsideAt(a, implied)) return [{ path: shownPath(a), change: 'changed', detail: `${describeEntry(a)} -> a folder (${octal(FOLDER_MODE)})` }];
    if (!b) return [{ path: shownPath(a), change: 'removed', detail: isPlainFile(a) ? '' : describeEntry(a) }];
    if (!isPlainFile(a)) return [{ path: shownPath(a), change: 'changed', detail: `${describeEntry(a)} -> a file` }];
    if (a.bytes.equals(b.bytes) && a.mode === b.mode) return [];
    const notes: string[] = [];
    if (a.mode !== b.mode) notes.push(`mode ${octal(a.mode)} -> ${octal(b.mode)}`);
    if (!a.bytes.equals(b.bytes)) notes.push(contentChange(path, a.bytes, b.bytes, redactions));
    return [{ path, change: 'changed', detail: notes.join('\n') }];
  });
}

/** The folders a set of files implies: the host folder (``) and every parent. */
function impliedFolders(files: readonly BundleFile[]): Set<string> {
  const folders = new Set<string>(['']);
  for (const f of files) for (let at = f.path.indexOf('/'); at >= 0; at = f.path.indexOf('/', at + 1)) folders.add(f.path.slice(0, at));
  return folders;
}

/** Whether an old entry (inside the host folder) sits where the new files imply a folder. */
function isInsideAt(entry: OldEntry, implied: ReadonlySet<string>): boolean {
  return !('type' in entry && entry.outside) && implied.has(entry.path);
}

/** A folder the new files imply, as kubeha writes it: no change. */
function isImpliedFolder(entry: OldEntry, implied: ReadonlySet<string>): boolean {
  return 'type' in entry && entry.type === 'folder' && isInsideAt(entry, implied) && !entry.note && entry.mode === FOLDER_MODE;
}

/** A plain file: one kubeha writes (a file inside the host folder, nothing unusual about it). */
function isPlainFile(entry: OldEntry): boolean {
  return !('type' in entry) || (entry.type === 'file' && !entry.outside && !entry.note);
}

/** The key an old entry is compared under: its path; entries outside the host folder never meet a new file. */
function keyOf(entry: OldEntry): string {
  return 'type' in entry && entry.outside ? `\0${entry.path}` : entry.path;
}

function shownPath(entry: OldEntry): string {
  if (!('type' in entry)) return entry.path;
  if (entry.outside) return entry.path;
  return entry.type === 'folder' ? `${entry.path}/` : entry.path;
}

/** What a previous entry is, in words: `a file (0644)`, `a symbolic link to /etc/shadow`, `a folder (0777)`. */
function describeEntry(entry: OldEntry): string {
  if (!('type' in entry)) return `a file (${octal(entry.mode)})`;
  const what: Record<TarEntry['type'], string> = {
    file: `a file (${octal(entry.mode)})`,
    folder: `a folder (${octal(entry.mode)})`,
    'symbolic link': `a symbolic link to ${entry.target}`,
    'hard link': `a hard link to ${entry.target}`,
    'character device': `a character device ${entry.device}`,
    'block device': `a block device ${entry.device}`,
    'named pipe': 'a named pipe',
    'sparse file': `a sparse file of ${entry.bytes.length} stored bytes`,
  };
  return [entry.outside ? `${what[entry.type]} outside the host folder` : what[entry.type], entry.note].filter(Boolean).join(', ');
}

function isPrivate(file: BundleFile): boolean {
  return file.path.endsWith('.key') || file.bytes.includes('PRIVATE KEY');
}

function contentChange(path: string, a: Buffer, b: Buffer, redactions: readonly Redaction[]): string {
  if (path.endsWith('.key') || a.includes('PRIVATE KEY') || b.includes('PRIVATE KEY')) return 'private key changed';
  if (path.endsWith('.crt')) return certificateChange(a, b);
  const known = secretLines([a.toString('utf8'), b.toString('utf8')], redactions);
  const redact = (text: string) =>
    text
      .split('\n')
      .map((line) => redactLine(line, redactions, known))
      .join('\n');
  const patch = createTwoFilesPatch(`a/${path}`, `b/${path}`, redact(a.toString('utf8')), redact(b.toString('utf8')), undefined, undefined, { context: 3 });
  const lines = patch.split('\n').filter((l) => !l.startsWith('====='));
  return lines.join('\n').replace(/\n+$/, '');
}

/** A line that holds a secret: the text around a known secret value, which identifies the same line on the other side. */
interface SecretLine {
  value: string;
  prefix: string;
  suffix: string;
  label: string;
}

/** Bootstrap tokens have a shape of their own: redacted wherever they appear, whatever their value. */
const BOOTSTRAP_TOKEN = new RegExp(`\\b${TOKEN_PATTERNS.bootstrapToken.source.replace(/^\^|\$$/g, '')}\\b`, 'g');

/** Learns where secrets sit from the lines that hold a known value (only lines with some text before it). */
function secretLines(texts: string[], redactions: readonly Redaction[]): SecretLine[] {
  const found: SecretLine[] = [];
  for (const line of texts.flatMap((t) => t.split('\n'))) {
    for (const r of redactions) {
      const at = r.value ? line.indexOf(r.value) : -1;
      if (at > 0 && line.slice(0, at).trim())
        found.push({ value: r.value, prefix: line.slice(0, at), suffix: line.slice(at + r.value.length), label: r.label });
    }
  }
  return found;
}

/**
 * Hides secrets in one line: known values, and whatever sits where a known value sits on the other side (the old
 * bundle may hold values that are no longer stored, such as after tokens.json was removed).
 */
function redactLine(line: string, redactions: readonly Redaction[], lines: readonly SecretLine[]): string {
  let out = redactions.reduce((t, r) => (r.value ? t.split(r.value).join(`<${r.label}>`) : t), line);
  for (const l of lines) {
    if (out.length <= l.prefix.length + l.suffix.length || !out.startsWith(l.prefix) || !out.endsWith(l.suffix)) continue;
    const hidden = out.slice(l.prefix.length, out.length - l.suffix.length);
    if (hidden !== `<${l.label}>`) out = `${l.prefix}<${l.label} (another value)>${l.suffix}`;
  }
  return out.replace(BOOTSTRAP_TOKEN, '<redacted bootstrapToken>');
}

function certificateChange(a: Buffer, b: Buffer): string {
  const describe = (bytes: Buffer) => {
    const text = bytes.toString('utf8');
    const cert = parseCertificate(text);
    return `SHA256 ${fingerprint(text)}, expires ${cert.notAfter.toISOString()}`;
  };
  try {
    return `certificate ${describe(a)}\n         -> ${describe(b)}`;
  } catch {
    return 'certificate changed';
  }
}

/** Formats the changes as text for people: one block per changed host, then a count. */
export function formatDiff(changes: readonly HostChange[]): string {
  const out = changes.flatMap(formatHostChange);
  const count = (c: HostChange['change']) => changes.filter((h) => h.change === c).length;
  out.push(`${count('added')} hosts added, ${count('removed')} removed, ${count('changed')} changed, ${count('unchanged')} unchanged`);
  return out.join('\n') + '\n';
}

/**
 * One host's (or folder's) block of lines: nothing when unchanged, a count when added or removed, else each file.
 * Names and contents come from files kubeha may not have written: control characters are shown escaped.
 */
export function formatHostChange(host: HostChange): string[] {
  if (host.change === 'unchanged') return [];
  const out = [`${visibleName(host.host)}: ${host.change}${host.change === 'changed' ? '' : ` (${host.files.length} files)`}`];
  if (host.note) out.push(`  ! ${visibleText(host.note)}`);
  if (host.change !== 'changed') return out;
  for (const f of host.files) {
    const mark = f.change === 'added' ? '+' : f.change === 'removed' ? '-' : '~';
    const block = f.detail.includes('\n') || f.detail.startsWith('---');
    out.push(`  ${mark} ${visibleName(f.path)}${f.detail && !block ? `: ${visibleName(f.detail)}` : ''}`);
    if (block) out.push(...f.detail.split('\n').map((l) => `    ${visibleText(l)}`));
  }
  return out;
}
