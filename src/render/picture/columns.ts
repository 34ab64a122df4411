/**
 * The hosts that carry the cluster, laid out as a fixed layered drawing: one column a host (one box, however many roles
 * it has), one band a role in the order the API traffic flows (load balancers, control planes, etcd, workers), a bus
 * between two bands for the traffic between them, and the etcd members closed into a ring. Pure.
 */
import { textWidth } from './text-width.js';
import { badge, box, boxSize, INK, PAINT, polyline, segment, STYLE, type ArrowName, type Line, type Shape } from './shapes.js';
import { ROLE_ORDER, type ClusterView, type HostView, type RoleKey, type RoleSlot } from './view.js';

const MIN_COLUMN = 150;
const COLUMN_GAP = 28;
/** Room between two bands a bus joins. */
const BUS_GAP = 52;
/** How far below the etcd band the ring closes. */
const RING_DROP = 18;
/** Room above a header's name for its step badge. */
const HEADER_TOP = 8;
const GUTTER_GAP = 16;

/** A host's column: where it is. */
export interface Column {
  host: HostView;
  x: number;
  w: number;
  cx: number;
}

/** A role's band: where it is. */
interface Band {
  role: RoleKey;
  y: number;
  h: number;
}

/** The laid-out columns, and where the rest of the picture goes: below `bottom`, aligned on `contentLeft`. */
export interface ColumnsLayout {
  shapes: Shape[];
  columns: Column[];
  contentLeft: number;
  right: number;
  bottom: number;
}

const BAND_LABELS: Record<RoleKey, string> = { loadbalancer: 'load balancers', 'control-plane': 'control planes', etcd: 'etcd', worker: 'also workers' };

/** The header lines of a host: its name and address. */
export function headerLines(host: HostView): Line[] {
  return [
    { text: host.name, style: STYLE.name },
    { text: host.address, style: STYLE.address, fill: INK.muted },
  ];
}

function slotLines(slot: RoleSlot): Line[] {
  return [{ text: slot.title, style: STYLE.slotTitle, fill: PAINT[slot.role].stroke }, ...slot.detail.map((text) => ({ text, style: STYLE.detail }))];
}

const has = (role: RoleKey) => (c: Column) => c.host.slots.some((s) => s.role === role);

/** Lays out the columns with their headers' tops at `top` and the gutter of band labels from `left`. */
export function layoutColumns(view: ClusterView, left: number, top: number): ColumnsLayout {
  const roles = ROLE_ORDER.filter((r) => view.columns.some((c) => c.slots.some((s) => s.role === r)));
  const contentLeft = left + gutterWidth(view, roles);
  const columns = placeColumns(view.columns, contentLeft);
  const headerH = Math.max(...view.columns.map((c) => boxSize(headerLines(c), HEADER_TOP).h));
  const bands = placeBands(view, roles, top + headerH + 16);
  const shapes = [
    ...columns.map((c) => lane(c, top + Math.round(headerH / 2), bands)),
    ...links(columns, bands),
    ...columns.flatMap((c) => c.host.slots.map((s) => slotBox(c, s, bands))),
    ...columns.flatMap((c) => [box('host', c.x, top, { w: c.w, h: headerH }, headerLines(c.host), PAINT.host, HEADER_TOP), badge(c.x + 4, top, c.host.step)]),
    ...gutter(view, bands, left),
  ];
  const last = bands.at(-1)!;
  const ringRoom = last.role === 'etcd' && columns.filter(has('etcd')).length > 1 ? RING_DROP : 0;
  return { shapes, columns, contentLeft, right: columns.at(-1)!.x + columns.at(-1)!.w, bottom: last.y + last.h + ringRoom };
}

function gutterWidth(view: ClusterView, roles: readonly RoleKey[]): number {
  const labels = [...roles.map((r) => BAND_LABELS[r]), view.links.toApi, view.links.toEtcd, view.links.ring];
  return Math.max(...labels.map((l) => textWidth(l, STYLE.label))) + GUTTER_GAP;
}

function placeColumns(hosts: readonly HostView[], left: number): Column[] {
  let x = left;
  return hosts.map((host) => {
    const w = Math.max(MIN_COLUMN, boxSize(headerLines(host), HEADER_TOP).w, ...host.slots.map((s) => boxSize(slotLines(s)).w));
    const column = { host, x, w, cx: x + Math.round(w / 2) };
    x += w + COLUMN_GAP;
    return column;
  });
}

/** The bands from `top`, each as high as its highest slot, with room for a bus or the ring below it. */
function placeBands(view: ClusterView, roles: readonly RoleKey[], top: number): Band[] {
  let y = top;
  const etcdMembers = view.columns.filter((c) => c.slots.some((s) => s.role === 'etcd')).length;
  return roles.map((role, i) => {
    const h = Math.max(...view.columns.flatMap((c) => c.slots.filter((s) => s.role === role).map((s) => boxSize(slotLines(s)).h)));
    const band = { role, y, h };
    const next = roles[i + 1];
    const bus = next === 'control-plane' || (role === 'control-plane' && next === 'etcd');
    y += h + (bus ? BUS_GAP : role === 'etcd' && etcdMembers > 1 ? RING_DROP + 24 : 24);
    return band;
  });
}

/** A column's lane: a light strip from the middle of its header down to its last role. */
function lane(column: Column, top: number, bands: readonly Band[]): Shape {
  const lastBand = bands.filter((b) => column.host.slots.some((s) => s.role === b.role)).at(-1)!;
  return { kind: 'rect', x: column.x - 8, y: top, w: column.w + 16, h: lastBand.y + lastBand.h + 10 - top, rx: 8, paint: PAINT.lane };
}

function slotBox(column: Column, slot: RoleSlot, bands: readonly Band[]): Shape {
  const band = bands.find((b) => b.role === slot.role)!;
  return box(`role ${slot.role}`, column.x, band.y, { w: column.w, h: band.h }, slotLines(slot), PAINT[slot.role]);
}

/** The buses haproxy → API servers and API servers → etcd, and the etcd ring. */
function links(columns: readonly Column[], bands: readonly Band[]): Shape[] {
  const band = (role: RoleKey) => bands.find((b) => b.role === role);
  const lb = band('loadbalancer');
  const cp = band('control-plane')!;
  const etcd = band('etcd')!;
  return [...(lb ? bus(columns, lb, cp, 'loadbalancer') : []), ...bus(columns, cp, etcd, 'control-plane'), ...ring(columns.filter(has('etcd')), etcd)];
}

/** Every column of band `from` joined to every column of band `to` through one horizontal line between the bands. */
function bus(columns: readonly Column[], from: Band, to: Band, paint: ArrowName): Shape[] {
  const color = PAINT[paint].stroke;
  const y = busY(from, to);
  const sources = columns.filter(has(from.role)).map((c) => c.cx);
  const targets = columns.filter(has(to.role)).map((c) => c.cx);
  const xs = [...new Set([...sources, ...targets])].sort((a, b) => a - b);
  return [
    ...(xs.length > 1 ? [segment(xs[0]!, y, xs.at(-1)!, y, color)] : []),
    ...sources.map((x) => segment(x, from.y + from.h, x, y, color)),
    ...targets.map((x) => segment(x, y, x, to.y - 1, color, { arrow: paint })),
    ...xs.map((x): Shape => ({ kind: 'circle', cx: x, cy: y, r: 3, paint: { fill: color, stroke: color } })),
  ];
}

function busY(from: Band, to: Band): number {
  return Math.round((from.y + from.h + to.y) / 2) - 2;
}

/** The etcd members closed into a ring (peer traffic): through their middles, back below them. */
function ring(members: readonly Column[], band: Band): Shape[] {
  if (members.length < 2) return [];
  const mid = band.y + Math.round(band.h / 2);
  const low = band.y + band.h + RING_DROP;
  const [first, last] = [members[0]!.cx, members.at(-1)!.cx];
  const around: [number, number][] = [
    [first, mid],
    [last, mid],
    [last, low],
    [first, low],
    [first, mid],
  ];
  return [polyline(around, PAINT.etcd.stroke, 2, { dash: '7 4' })];
}

/** The labels left of the columns: each band's name, and what each bus and the ring carry. */
function gutter(view: ClusterView, bands: readonly Band[], left: number): Shape[] {
  const label = (text: string, y: number, fill: string, style: Line['style']): Shape => ({ kind: 'text', x: left, y, text, style, fill, anchor: 'start' });
  const shapes = bands.map((b) => label(BAND_LABELS[b.role], b.y + Math.round(b.h / 2) + 4, PAINT[b.role].stroke, STYLE.label));
  const cp = bands.find((b) => b.role === 'control-plane')!;
  const etcd = bands.find((b) => b.role === 'etcd')!;
  const lb = bands.find((b) => b.role === 'loadbalancer');
  if (lb) shapes.push(label(view.links.toApi, busY(lb, cp) - 6, INK.muted, STYLE.note));
  shapes.push(label(view.links.toEtcd, busY(cp, etcd) - 6, INK.muted, STYLE.note));
  if (view.columns.filter((c) => c.slots.some((s) => s.role === 'etcd')).length > 1)
    shapes.push(label(view.links.ring, etcd.y + etcd.h + RING_DROP + 4, INK.muted, STYLE.note));
  return shapes;
}
