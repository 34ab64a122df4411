/** Renders that several hosts share (declared on artifacts and steps), made once per (secrets, model) and reused. */
import type { HostModel } from '../model/types.js';
import type { RenderContext } from './context.js';

/** What a shared render may depend on besides the cluster: nothing, or the host's roles. */
export type Sharing = 'cluster' | 'roles';

const renders = new WeakMap<object, WeakMap<object, Map<object, Map<string, unknown>>>>();

/** The roles of a host as a key, independent of the order the inventory lists them in. */
function rolesKey(host: HostModel): string {
  return [...host.roles].sort().join(',');
}

/** `render()` for the first host of its kind, the same value for every later one (`item` names what is rendered). */
export function sharedRender<T>(ctx: RenderContext, item: object, sharing: Sharing, render: () => T): T {
  let byModel = renders.get(ctx.secrets);
  if (!byModel) renders.set(ctx.secrets, (byModel = new WeakMap()));
  let byItem = byModel.get(ctx.model);
  if (!byItem) byModel.set(ctx.model, (byItem = new Map()));
  let byKey = byItem.get(item);
  if (!byKey) byItem.set(item, (byKey = new Map()));
  const key = sharing === 'roles' ? rolesKey(ctx.host) : '';
  if (!byKey.has(key)) byKey.set(key, render());
  return byKey.get(key) as T;
}
