/** The parts of the picture around the host columns: the title, the endpoint, the workers, the rollout and the ports. Pure. */
import { textWidth } from './text-width.js';
import type { Column } from './columns.js';
import { headerLines } from './columns.js';
import { badge, box, boxSize, INK, lineHeight, PAINT, polyline, STYLE, textLines, type Line, type Shape } from './shapes.js';
import type { ClusterView, EndpointView, WorkersView } from './view.js';

/** A laid-out block: what it draws, and its right and bottom edges. */
export interface Block {
  shapes: Shape[];
  right: number;
  bottom: number;
}

/** How far the endpoint's arrows reach down to the hosts. */
export const ARROW_ROOM = 46;
const CHIP_GAP = 12;

/** The headline and the cluster's facts, left-aligned at (x, y). */
export function titleBlock(view: ClusterView, x: number, y: number): Block {
  const lines: Line[] = [{ text: view.headline, style: STYLE.headline }, ...view.facts.map((text) => ({ text, style: STYLE.fact, fill: INK.muted }))];
  return blockOf(lines, x, y);
}

/** Lines as a block of left-aligned text. */
function blockOf(lines: readonly Line[], x: number, y: number): Block {
  const size = boxSize(lines);
  return { shapes: textLines(lines, x, y, 'start'), right: x + size.w, bottom: y + size.h - 16 };
}

function endpointLines(endpoint: EndpointView): Line[] {
  return [{ text: endpoint.title, style: STYLE.endpoint, fill: PAINT.vip.stroke }, ...endpoint.lines.map((text) => ({ text, style: STYLE.detail }))];
}

/** The endpoint's height: the box above the columns. */
export function endpointHeight(endpoint: EndpointView): number {
  return boxSize(endpointLines(endpoint)).h;
}

/** The endpoint's box at `y`, centred over the hosts that hold it, and an arrow to each (MASTER solid, BACKUP dashed). */
export function endpointBlock(endpoint: EndpointView, columns: readonly Column[], left: number, y: number): Block {
  const lines = endpointLines(endpoint);
  const size = boxSize(lines);
  const holders = endpoint.holders.map((h) => ({ ...h, column: columns.find((c) => c.host.name === h.host)! }));
  const centre = Math.round((Math.min(...holders.map((h) => h.column.cx)) + Math.max(...holders.map((h) => h.column.cx))) / 2);
  const x = Math.max(left, centre - Math.round(size.w / 2));
  const bottom = y + size.h;
  const arrows = holders.flatMap((h): Shape[] => {
    const from = Math.min(Math.max(h.column.cx, x + 16), x + size.w - 16);
    const to = h.column.cx;
    const dash = h.label === 'BACKUP' ? { dash: '6 4' } : {};
    const side = from > to ? 'end' : 'start';
    return [
      polyline(
        [
          [from, bottom],
          [to, bottom + ARROW_ROOM - 2],
        ],
        PAINT.vip.stroke,
        h.label === 'BACKUP' ? 1.5 : 2.5,
        { ...dash, arrow: 'vip' },
      ),
      {
        kind: 'text',
        x: to + (side === 'end' ? -12 : 12),
        y: bottom + ARROW_ROOM - 12,
        text: h.label,
        style: STYLE.note,
        fill: PAINT.vip.stroke,
        anchor: side,
      },
    ];
  });
  return { shapes: [...arrows, box('endpoint', x, y, size, lines, PAINT.vip)], right: x + size.w, bottom };
}

/** The hosts that run only workloads: a box of chips, one a host, or (too many to draw) their count. */
export function workersBlock(workers: WorkersView, x: number, minWidth: number, y: number): Block {
  const title: Line = { text: workers.title, style: STYLE.slotTitle, fill: PAINT.worker.stroke };
  const inner = Math.max(minWidth - 24, textWidth(title.text, title.style));
  const top = y + 14 + boxSize([title]).h - 8;
  const body = workers.drawn.length ? chips(workers, x + 12, inner, top) : countStack(workers, x + 12, top);
  const w = Math.max(inner, body.right - x - 12) + 24;
  const h = body.bottom + 14 - y;
  const frame: Shape = { kind: 'rect', x, y, w, h, rx: 8, paint: PAINT.worker, dash: '5 3' };
  const heading = textLines([title], x + 12, y + 6, 'start');
  const badges = workers.steps.map((step, i) => badge(x + 4 + i * 26, y, step));
  return { shapes: [frame, ...heading, ...body.shapes, ...badges], right: x + w, bottom: y + h };
}

/** One chip a worker (name and address), as many a row as fit `width`. */
function chips(workers: WorkersView, x: number, width: number, y: number): Block {
  const size = workers.drawn.reduce(
    (s, h) => {
      const b = boxSize(headerLines(h));
      return { w: Math.max(s.w, b.w), h: Math.max(s.h, b.h) };
    },
    { w: 0, h: 0 },
  );
  const perRow = Math.max(1, Math.floor((width + CHIP_GAP) / (size.w + CHIP_GAP)));
  const shapes = workers.drawn.map((h, i) => {
    const at = { x: x + (i % perRow) * (size.w + CHIP_GAP), y: y + Math.floor(i / perRow) * (size.h + CHIP_GAP) };
    return box('host worker', at.x, at.y, size, headerLines(h), PAINT.host);
  });
  const rows = Math.ceil(workers.drawn.length / perRow);
  return { shapes, right: x + Math.min(perRow, workers.drawn.length) * (size.w + CHIP_GAP) - CHIP_GAP, bottom: y + rows * (size.h + CHIP_GAP) - CHIP_GAP };
}

/** Too many workers to draw one by one: a stack of cards with their count, their first and last names, every name as its tooltip. */
function countStack(workers: WorkersView, x: number, y: number): Block {
  const lines: Line[] = [
    { text: `${workers.count} workers`, style: STYLE.name },
    { text: `${workers.first} … ${workers.last}`, style: STYLE.detail, fill: INK.muted },
  ];
  const size = boxSize(lines);
  const back = [8, 4].map((d): Shape => ({ kind: 'rect', x: x + d, y: y + d, w: size.w, h: size.h, rx: 6, paint: PAINT.host }));
  const card = { ...box('host workers', x, y, size, lines, PAINT.host), tooltip: workers.names.join(', ') } as Shape;
  return { shapes: [...back.reverse(), card], right: x + size.w + 8, bottom: y + size.h + 8 };
}

const ROLLOUT_HEADING = 'Rollout order (hosts of one step may run at the same time)';

/** The rollout order: a numbered badge and a line a step. */
export function rolloutBlock(view: ClusterView, x: number, y: number): Block {
  const heading = textLines([{ text: ROLLOUT_HEADING, style: STYLE.heading }], x, y, 'start');
  const row = lineHeight(STYLE.step) + 8;
  const top = y + lineHeight(STYLE.heading) + 10;
  const shapes = view.rollout.flatMap((step, i): Shape[] => {
    const cy = top + i * row + 11;
    return [badge(x + 11, cy, step.number), ...textLines([{ text: `${step.title}: ${step.hosts}`, style: STYLE.step }], x + 30, cy - 11, 'start')];
  });
  const widths = [textWidth(ROLLOUT_HEADING, STYLE.heading), ...view.rollout.map((s) => 30 + textWidth(`${s.title}: ${s.hosts}`, STYLE.step))];
  return { shapes: [...heading, ...shapes], right: x + Math.max(...widths), bottom: top + view.rollout.length * row };
}

/** The ports that cross between hosts, as a heading and items wrapped to `width`. */
export function portsBlock(ports: readonly string[], x: number, width: number, y: number): Block {
  const lines: Line[] = [{ text: 'Ports between hosts', style: STYLE.heading }];
  let current = '';
  for (const port of ports) {
    const next = current ? `${current} · ${port}` : port;
    if (current && textWidth(next, STYLE.detail) > width) {
      lines.push({ text: current, style: STYLE.detail, fill: INK.muted });
      current = port;
    } else current = next;
  }
  lines.push({ text: current, style: STYLE.detail, fill: INK.muted });
  return blockOf(lines, x, y);
}
