/** The self-check's network: a site namespace and a client namespace joined by a veth pair (TEST-NET-3, never routed). */
import type { ArtifactList } from '../../src/render/mirror-list.js';
import { runOrThrow, runSync } from '../proc.js';
import type { RunningSite, Site, SiteBuild } from './site.js';

/** The namespaces and addresses of the check (TEST-NET-3, never routed). */
export const NET = {
  site: `khsite${process.pid % 100000}`,
  client: `khcli${process.pid % 100000}`,
  siteAddress: '203.0.113.200',
  clientAddress: '203.0.113.201',
} as const;

/** What every check gets. */
export interface Check {
  site: Site;
  running: RunningSite;
  built: SiteBuild;
  list: ArtifactList;
  work: string;
  log: (line: string) => void;
}

/** Runs argv in the client namespace. */
export function client(argv: string[], timeoutMs = 120_000): string {
  return runOrThrow(['ip', 'netns', 'exec', NET.client, ...argv], timeoutMs);
}

/** Two namespaces joined by a veth pair: the site's and a client's. */
export function makeNetwork(): void {
  for (const ns of [NET.site, NET.client]) {
    runSync(['ip', 'netns', 'delete', ns]);
    runOrThrow(['ip', 'netns', 'add', ns]);
    runOrThrow(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
  runOrThrow(['ip', '-n', NET.site, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NET.client]);
  for (const [ns, address] of [
    [NET.site, NET.siteAddress],
    [NET.client, NET.clientAddress],
  ] as const) {
    runOrThrow(['ip', '-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
    runOrThrow(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
  }
}
