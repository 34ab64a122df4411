/** IPv4 sets written as few CIDR blocks as cover them exactly: allow-lists of a size that does not grow with the hosts. Pure. */

/** An inclusive range of IPv4 addresses as numbers. */
interface Span {
  first: number;
  last: number;
}

const TWO_32 = 2 ** 32;

function addressNumber(address: string): number {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${address}`);
  return parts.reduce((n, p) => n * 256 + p, 0);
}

function addressText(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** An address (a.b.c.d) or a block (a.b.c.d/n, any host bits ignored) as a span. */
function spanOf(item: string): Span {
  const [address, bits] = item.split('/');
  const prefix = bits === undefined ? 32 : Number(bits);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new Error(`not an IPv4 block: ${item}`);
  const size = 2 ** (32 - prefix);
  const first = Math.floor(addressNumber(address!) / size) * size;
  return { first, last: first + size - 1 };
}

/** Overlapping and adjacent spans joined, in address order. */
function merged(spans: Span[]): Span[] {
  const out: Span[] = [];
  for (const s of [...spans].sort((a, b) => a.first - b.first)) {
    const last = out[out.length - 1];
    if (last && s.first <= last.last + 1) last.last = Math.max(last.last, s.last);
    else out.push({ ...s });
  }
  return out;
}

/** The largest aligned blocks that tile a span, in order; a block of one address is written without /32. */
function blocksOf(span: Span): string[] {
  const out: string[] = [];
  for (let first = span.first; first <= span.last; ) {
    let size = first === 0 ? TWO_32 : 2 ** lowBit(first);
    while (first + size - 1 > span.last) size /= 2;
    const prefix = 32 - Math.log2(size);
    out.push(prefix === 32 ? addressText(first) : `${addressText(first)}/${prefix}`);
    first += size;
  }
  return out;
}

/** The exponent of the lowest set bit of a positive number below 2^32. */
function lowBit(n: number): number {
  let bit = 0;
  while (n % 2 ** (bit + 1) === 0) bit++;
  return bit;
}

/** The fewest CIDR blocks that hold exactly the addresses of `items` (addresses and blocks), in address order. */
export function collapseAddresses(items: readonly string[]): string[] {
  return merged(items.map(spanOf)).flatMap(blocksOf);
}
