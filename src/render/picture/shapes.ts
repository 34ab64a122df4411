/** The drawing's vocabulary: boxes of text, lines, badges, with the colours of each role. Pure geometry, integer pixels. */
import { textWidth, type TextStyle } from './text-width.js';
import type { RoleKey } from './view.js';

/** A colour pair: a light fill and a dark stroke (the dark one is also the colour of its text and arrows). */
export interface Paint {
  fill: string;
  stroke: string;
}

/**
 * The palette: light fills with dark strokes and near-black text on an opaque white card, so that the picture reads the
 * same on a dark page and in print; every kind of link also differs by its dash, not by colour alone.
 */
export const PAINT = {
  loadbalancer: { fill: '#fff1dc', stroke: '#9a4a00' },
  'control-plane': { fill: '#e3edff', stroke: '#1d4ed8' },
  etcd: { fill: '#e1f5e8', stroke: '#15803d' },
  worker: { fill: '#efe9fc', stroke: '#6d28d9' },
  vip: { fill: '#fde7ee', stroke: '#be123c' },
  host: { fill: '#ffffff', stroke: '#374151' },
  lane: { fill: '#f3f4f6', stroke: '#e5e7eb' },
  card: { fill: '#ffffff', stroke: '#d1d5db' },
} as const satisfies Record<RoleKey | string, Paint>;

/** Text colours: body and muted. */
export const INK = { text: '#111827', muted: '#4b5563' } as const;

/** The arrowheads the drawing uses, by the paint they take their colour from. */
export const ARROWS = ['vip', 'loadbalancer', 'control-plane', 'etcd'] as const;
/** An arrowhead's name. */
export type ArrowName = (typeof ARROWS)[number];

/** Something drawn. */
export type Shape =
  | { kind: 'rect'; x: number; y: number; w: number; h: number; rx: number; paint: Paint; dash?: string }
  | { kind: 'text'; x: number; y: number; text: string; style: TextStyle; fill: string; anchor: 'start' | 'middle' | 'end' }
  | { kind: 'path'; d: string; stroke: string; width: number; dash?: string; arrow?: ArrowName }
  | { kind: 'circle'; cx: number; cy: number; r: number; paint: Paint }
  | { kind: 'group'; role: string; children: Shape[]; tooltip?: string };

/** One line of a box: its text and style; `fill` defaults to the body colour. */
export interface Line {
  text: string;
  style: TextStyle;
  fill?: string;
}

/** Padding inside a box. */
const PAD_X = 12;
const PAD_Y = 8;

/** The height one line of text takes (its size and some leading). */
export function lineHeight(style: TextStyle): number {
  return style.size + 6;
}

/** The size a box needs for its lines, padding included; `top` is extra room above the first line. */
export function boxSize(lines: readonly Line[], top = 0): { w: number; h: number } {
  return {
    w: Math.max(...lines.map((l) => textWidth(l.text, l.style))) + 2 * PAD_X,
    h: lines.reduce((sum, l) => sum + lineHeight(l.style), 0) + 2 * PAD_Y + top,
  };
}

/** Text lines stacked from `top`, centred on `cx` (or starting at `x` when `anchor` is 'start'). */
export function textLines(lines: readonly Line[], x: number, top: number, anchor: 'start' | 'middle' = 'middle'): Shape[] {
  let y = top;
  return lines.map((l) => {
    const h = lineHeight(l.style);
    y += h;
    return { kind: 'text', x, y: y - Math.ceil((h - l.style.size) / 2) - 1, text: l.text, style: l.style, fill: l.fill ?? INK.text, anchor };
  });
}

/** A box of centred lines at (x, y), `w` wide (at least its text) and `h` high (at least its text); `top` is room above the text. */
export function box(role: string, x: number, y: number, size: { w: number; h: number }, lines: readonly Line[], paint: Paint, top = 0): Shape {
  const rect: Shape = { kind: 'rect', x, y, w: size.w, h: size.h, rx: 6, paint };
  const textTop = y + top + PAD_Y + Math.floor((size.h - boxSize(lines, top).h) / 2);
  return { kind: 'group', role, children: [rect, ...textLines(lines, x + Math.round(size.w / 2), textTop)] };
}

/** A numbered badge: a rollout step. */
export function badge(cx: number, cy: number, step: number): Shape {
  return {
    kind: 'group',
    role: 'step',
    children: [
      { kind: 'circle', cx, cy, r: 11, paint: { fill: PAINT.host.stroke, stroke: '#ffffff' } },
      { kind: 'text', x: cx, y: cy + 4, text: String(step), style: { font: 'sans', size: 12, bold: true }, fill: '#ffffff', anchor: 'middle' },
    ],
  };
}

/** A straight polyline through the points, optionally with an arrowhead at its end. */
export function polyline(points: readonly [number, number][], stroke: string, width: number, extra: { dash?: string; arrow?: ArrowName } = {}): Shape {
  const d = points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${x} ${y}`).join(' ');
  return { kind: 'path', d, stroke, width, ...extra };
}

/** A straight line from (x1, y1) to (x2, y2), 2 px wide, optionally with an arrowhead at its end. */
export function segment(x1: number, y1: number, x2: number, y2: number, stroke: string, extra: { dash?: string; arrow?: ArrowName } = {}): Shape {
  return polyline(
    [
      [x1, y1],
      [x2, y2],
    ],
    stroke,
    2,
    extra,
  );
}

/** The text styles of the drawing. */
export const STYLE = {
  headline: { font: 'sans', size: 20, bold: true },
  fact: { font: 'sans', size: 13 },
  name: { font: 'sans', size: 15, bold: true },
  address: { font: 'mono', size: 12 },
  slotTitle: { font: 'sans', size: 13, bold: true },
  detail: { font: 'sans', size: 12 },
  label: { font: 'sans', size: 12, bold: true },
  note: { font: 'sans', size: 11 },
  endpoint: { font: 'sans', size: 15, bold: true },
  heading: { font: 'sans', size: 14, bold: true },
  step: { font: 'sans', size: 13 },
} as const satisfies Record<string, TextStyle>;
