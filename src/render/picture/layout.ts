/** The whole picture laid out: title, endpoint, host columns, workers, rollout order, ports, top to bottom. Pure. */
import { ARROW_ROOM, endpointBlock, endpointHeight, portsBlock, rolloutBlock, titleBlock, workersBlock, type Block } from './blocks.js';
import { layoutColumns } from './columns.js';
import { PAINT, STYLE } from './shapes.js';
import type { Picture } from './svg.js';
import { nameList, type ClusterView } from './view.js';

/** Margin around the picture. */
const PAD = 24;
/** Room between two blocks. */
const GAP = 28;
/** The narrowest the ports may wrap to. */
const MIN_TEXT_WIDTH = 560;

/** Lays out a cluster's picture. */
export function layoutPicture(view: ClusterView): Picture {
  const title = titleBlock(view, PAD, PAD);
  const endpointTop = title.bottom + GAP;
  const columns = layoutColumns(view, PAD, endpointTop + endpointHeight(view.endpoint) + ARROW_ROOM);
  const endpoint = endpointBlock(view.endpoint, columns.columns, columns.contentLeft, endpointTop);
  const blocks: Block[] = [title, endpoint, { shapes: columns.shapes, right: columns.right, bottom: columns.bottom }];
  let y = columns.bottom + GAP;
  if (view.workers) {
    const workers = workersBlock(view.workers, columns.contentLeft, columns.right - columns.contentLeft, y);
    const label: Block = {
      shapes: [{ kind: 'text', x: PAD, y: y + 22, text: 'workers', style: STYLE.label, fill: PAINT.worker.stroke, anchor: 'start' }],
      right: 0,
      bottom: 0,
    };
    blocks.push(workers, label);
    y = workers.bottom + GAP;
  }
  const rollout = rolloutBlock(view, PAD, y);
  const textWidth = Math.max(MIN_TEXT_WIDTH, ...[...blocks, rollout].map((b) => b.right - PAD));
  const ports = portsBlock(view.ports, PAD, textWidth, rollout.bottom + GAP - 8);
  blocks.push(rollout, ports);
  return {
    width: Math.max(...blocks.map((b) => b.right)) + PAD,
    height: ports.bottom + PAD,
    title: `Cluster ${view.name}`,
    description: describe(view),
    shapes: blocks.flatMap((b) => b.shapes),
  };
}

/** The picture in one sentence, for screen readers. */
function describe(view: ClusterView): string {
  const withRole = (role: string) => nameList(view.columns.filter((c) => c.slots.some((s) => s.role === role)).map((c) => c.name));
  const holders = view.endpoint.holders.map((h) => `${h.host} (${h.label})`).join(', ');
  return [
    `${view.headline}. ${view.endpoint.title} on ${holders}`,
    `API servers: ${withRole('control-plane')}`,
    `etcd: ${withRole('etcd')}`,
    ...(view.workers ? [`${view.workers.count} workers-only hosts`] : []),
  ].join('; ');
}
