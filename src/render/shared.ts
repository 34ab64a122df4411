/** Renders that several hosts share (declared on artifacts and steps), made once per (secrets, model) and reused. */
import { remembered } from '../common/memo.js';
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
  const byModel = remembered(renders, ctx.secrets, () => new WeakMap<object, Map<object, Map<string, unknown>>>());
  const byItem = remembered(byModel, ctx.model, () => new Map<object, Map<string, unknown>>());
  const byKey = remembered(byItem, item, () => new Map<string, unknown>());
  return remembered(byKey, sharing === 'roles' ? rolesKey(ctx.host) : '', render) as T;
}
