/** What changed in the picture of the cluster (cluster.svg), told by the texts it draws rather than by its coordinates. Pure. */

/** XML's five entities and numeric references, decoded. */
function unescapeXml(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(Number.parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(Number.parseInt(ref.slice(1), 10));
    return named[ref] ?? whole;
  });
}

/** The texts an SVG document draws, in document order. */
export function pictureTexts(svg: string): string[] {
  return [...svg.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)].map((m) => unescapeXml(m[1]!));
}

/** The texts of `a` that `b` lacks, counted as a multiset, in `a`'s order. */
function minus(a: readonly string[], b: readonly string[]): string[] {
  const left = new Map<string, number>();
  for (const t of b) left.set(t, (left.get(t) ?? 0) + 1);
  return a.filter((t) => {
    const n = left.get(t) ?? 0;
    if (n > 0) left.set(t, n - 1);
    return n === 0;
  });
}

/** A step badge's number: the rollout's lines say the same in words. */
const BADGE = /^[0-9]+$/;

/** The change between two pictures as lines: each text drawn only before (-), then each text drawn only now (+); step badges aside. */
export function describePictureChange(before: string, after: string): string {
  const [a, b] = [before, after].map((svg) => pictureTexts(svg).filter((t) => !BADGE.test(t)));
  const lines = [...minus(a!, b!).map((t) => `- ${t}`), ...minus(b!, a!).map((t) => `+ ${t}`)];
  return lines.length ? ['the picture changes:', ...lines].join('\n') : 'the drawing changes (the same texts, placed or drawn differently)';
}
