/** The picture as a Mermaid flowchart: a subgraph a host with a node a role, the same links as the SVG. Pure. */
import { PAINT } from './shapes.js';
import { ROLE_ORDER, type ClusterView, type HostView, type RoleKey } from './view.js';

/** Mermaid's class name of each role. */
const CLASS: Record<RoleKey, string> = { loadbalancer: 'lb', 'control-plane': 'cp', etcd: 'etcd', worker: 'worker' };

/** A label inside double quotes: Mermaid's entity for a quote, and HTML's for what its renderer would read as markup. */
function label(lines: readonly string[]): string {
  const entities = (s: string) => s.replace(/&/g, '#amp;').replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
  return `"${lines.map(entities).join('<br/>')}"`;
}

/** The flowchart's text. */
export function mermaidText(view: ClusterView): string {
  const ids = new Map(view.columns.map((c, i) => [c.name, `h${i}`]));
  const slotId = (host: string, role: RoleKey) => `${ids.get(host)}_${CLASS[role]}`;
  const lines = [
    `%% cluster ${view.name}: made by kubeha (gen plan --format mermaid)`,
    'flowchart TB',
    `  endpoint([${label([view.endpoint.title, ...view.endpoint.lines])}])`,
    ...view.columns.flatMap((c) => hostGraph(c, ids.get(c.name)!)),
    ...workersGraph(view),
    ...linkLines(view, slotId),
    ...rolloutGraph(view),
    ...ROLE_ORDER.map((r) => `  classDef ${CLASS[r]} fill:${PAINT[r].fill},stroke:${PAINT[r].stroke},color:#111827`),
    `  classDef endpoint fill:${PAINT.vip.fill},stroke:${PAINT.vip.stroke},color:#111827`,
    '  class endpoint endpoint',
    ...ROLE_ORDER.flatMap((r) => {
      const members = view.columns.filter((c) => c.slots.some((s) => s.role === r)).map((c) => slotId(c.name, r));
      return members.length ? [`  class ${members.join(',')} ${CLASS[r]}`] : [];
    }),
  ];
  return lines.join('\n') + '\n';
}

function hostGraph(host: HostView, id: string): string[] {
  return [
    `  subgraph ${id}[${label([`${host.step}. ${host.name} ${host.address}`])}]`,
    ...host.slots.map((s) => `    ${id}_${CLASS[s.role]}[${label([s.title, ...s.detail])}]`),
    '  end',
  ];
}

function workersGraph(view: ClusterView): string[] {
  const workers = view.workers;
  if (!workers) return [];
  if (!workers.drawn.length)
    return [`  workers[${label([`${workers.count} workers`, `${workers.first} … ${workers.last}`, workers.title])}]`, '  class workers worker'];
  return [
    `  subgraph workers[${label([workers.title])}]`,
    ...workers.drawn.map((h, i) => `    w${i}[${label([`${h.step}. ${h.name}`, h.address])}]`),
    '  end',
    `  class ${workers.drawn.map((_, i) => `w${i}`).join(',')} worker`,
  ];
}

/** The endpoint's arrows, haproxy → API servers and API servers → etcd through a hub each, and the etcd ring. */
function linkLines(view: ClusterView, slotId: (host: string, role: RoleKey) => string): string[] {
  const withRole = (role: RoleKey) => view.columns.filter((c) => c.slots.some((s) => s.role === role)).map((c) => slotId(c.name, role));
  const [lbs, cps, members] = [withRole('loadbalancer'), withRole('control-plane'), withRole('etcd')];
  const endpointRole = lbs.length ? 'loadbalancer' : 'control-plane';
  const lines = view.endpoint.holders.map((h) =>
    h.label === 'BACKUP' ? `  endpoint -.->|BACKUP| ${slotId(h.host, endpointRole)}` : `  endpoint ==>|${h.label}| ${slotId(h.host, endpointRole)}`,
  );
  if (lbs.length) lines.push(`  to_api((${label([view.links.toApi])}))`, ...lbs.map((id) => `  ${id} --- to_api`), ...cps.map((id) => `  to_api --> ${id}`));
  lines.push(`  to_etcd((${label([view.links.toEtcd])}))`, ...cps.map((id) => `  ${id} --- to_etcd`), ...members.map((id) => `  to_etcd --> ${id}`));
  const ring = members.length > 2 ? [...members, members[0]!] : members;
  for (let i = 0; i + 1 < ring.length; i++) lines.push(`  ${ring[i]} <-.->|${view.links.ring}| ${ring[i + 1]}`);
  return lines;
}

function rolloutGraph(view: ClusterView): string[] {
  const steps = view.rollout.map((s) => `    step${s.number}[${label([`${s.number}. ${s.title}`, s.hosts])}]`);
  const chain = view.rollout.length > 1 ? [`    ${view.rollout.map((s) => `step${s.number}`).join(' --> ')}`] : [];
  return ['  subgraph rollout["Rollout order"]', '    direction LR', ...steps, ...chain, '  end'];
}
