/**
 * How wide a line of text is drawn, without a font at hand: per-character advances (in thousandths of an em) measured
 * in Chromium's canvas on DejaVu Sans and Liberation Sans (Arial's and Helvetica's metrics), the wider of the two, so a
 * box sized from them holds its text in either family; the monospaced families all advance 0.6 em.
 */

/** The font stacks the drawing names (no web font: nothing is loaded from outside the SVG). */
export const FONTS = {
  sans: "'DejaVu Sans', 'Liberation Sans', Arial, Helvetica, sans-serif",
  mono: "'DejaVu Sans Mono', 'Liberation Mono', Menlo, Consolas, monospace",
} as const;

/** One way text is set: its family, size in pixels and weight. */
export interface TextStyle {
  font: keyof typeof FONTS;
  size: number;
  bold?: boolean;
}

/** Advances of the characters 32..126 in DejaVu Sans or Liberation Sans, whichever is wider, regular weight. */
const SANS = [
  318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838,
  556, 1015, 684, 686, 722, 770, 667, 611, 778, 752, 295, 500, 667, 557, 863, 748, 787, 667, 787, 722, 667, 611, 732, 684, 989, 685, 667, 685, 390, 337, 390,
  838, 556, 500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337,
  636, 838,
];

/** The same, bold. */
const SANS_BOLD = [
  348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696, 696, 696, 696, 696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838,
  611, 1000, 774, 762, 734, 830, 683, 683, 821, 837, 372, 556, 775, 637, 995, 837, 850, 733, 850, 770, 720, 682, 812, 774, 1103, 771, 724, 725, 457, 365, 457,
  838, 556, 500, 675, 716, 593, 716, 678, 435, 716, 712, 343, 343, 665, 343, 1042, 712, 687, 716, 716, 493, 595, 478, 712, 652, 924, 645, 652, 582, 712, 365,
  712, 838,
];

/** Characters beyond ASCII the drawing uses (the same in both weights, as measured). */
const EXTRA: Record<string, number> = { '·': 380, '…': 1000, '→': 1000, '↔': 1000, '–': 556, '—': 1000, '×': 838 };

/** Every monospaced family of the stack advances 0.6 em (DejaVu Sans Mono 0.602). */
const MONO = 602;

/** The width of `text` in pixels in `style`, rounded up; a character the tables lack counts a full em. */
export function textWidth(text: string, style: TextStyle): number {
  let thousandths = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (style.font === 'mono') thousandths += code < 0x2000 ? MONO : 1000;
    else thousandths += (code >= 32 && code < 127 ? (style.bold ? SANS_BOLD : SANS)[code - 32] : EXTRA[ch]) ?? 1000;
  }
  return Math.ceil((thousandths * style.size) / 1000);
}
