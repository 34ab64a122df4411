/** Text from outside (file names, file contents, lock files) made safe to print on a terminal. Pure. */

/** C0 controls, DEL and C1 controls (U+0080-U+009F: some terminals take U+009B as CSI); tab and newline only where `keep` says. */
function isControl(code: number, keep: boolean): boolean {
  if (keep && (code === 0x09 || code === 0x0a)) return false;
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

function shown(text: string, keep: boolean): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!isControl(code, keep)) out += text[i];
    else out += code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return out;
}

/** Text with every control character but tab and newline shown as `\xNN` (`\u00NN` for C1): no escape sequence reaches the terminal. */
export function visibleText(text: string): string {
  return shown(text, true);
}

/** A name (of a file, a host, a tar entry) with every control character, tab and newline too, shown as `\xNN`. */
export function visibleName(name: string): string {
  return shown(name, false);
}

/**
 * A JSON text with DEL and the C1 controls escaped as `\u00NN` too (JSON.stringify escapes only C0): they can only
 * stand inside strings there, where the escape means the same character.
 */
export function visibleJson(json: string): string {
  let out = '';
  for (let i = 0; i < json.length; i++) {
    const code = json.charCodeAt(i);
    out += code >= 0x7f && code <= 0x9f ? `\\u${code.toString(16).padStart(4, '0')}` : json[i];
  }
  return out;
}
