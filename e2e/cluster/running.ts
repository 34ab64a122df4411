/**
 * The running site: the registry and the mirror server started inside the lead's network namespace (`ip netns exec`),
 * the mirror on https://ADDRESS:443, the registry on that namespace's 127.0.0.1 behind it. Reads back the mirror's
 * request log: every request, the unlisted ones, and counts per artifact.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { killGroup, startBackground, tailLines, waitFor } from '../proc.js';
import { REPO } from './cache.js';
import { registryConfig } from './registry.js';
import type { RequestRecord, ServerConfig } from './server.js';
import type { Site } from './site.js';

/** The site while it runs. */
export interface RunningSite {
  /** Stops the mirror and the registry (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
  /** Kills both at once (SIGKILL to their process groups): for exit and signal handlers, where nothing can be awaited. */
  stopSync(): void;
  /** Every request so far, in order. */
  requests(): RequestRecord[];
  /** Requests for anything `gen artifacts` did not list (the run fails with these). */
  unlisted(): RequestRecord[];
  /** Requests for what the site serves beyond the list (site.notes says why). */
  beyondList(): RequestRecord[];
  /** Requests and bytes per artifact, one line each, plus the unlisted ones. */
  summary(): string;
  /** The request log (one JSON line per request). */
  log: string;
  /** The registry and the mirror server (each its own process group), for a testbed to stop with its hosts. */
  children: ChildProcess[];
}

/** The registry's port inside the namespace (loopback only there). */
const REGISTRY_PORT = 5000;

/** Parses the request log. */
function readRequests(log: string): RequestRecord[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as RequestRecord);
}

/** Requests and bytes per artifact (what the verdict names), largest first. */
export function summarize(requests: RequestRecord[]): string {
  const by = new Map<string, { n: number; bytes: number }>();
  for (const r of requests) {
    const v = r.verdict;
    const what = v.listed ? v.what : v.beyondList ? `BEYOND THE LIST ${v.what}` : `UNLISTED ${r.method} ${r.path} (${v.why})`;
    const s = by.get(what) ?? { n: 0, bytes: 0 };
    by.set(what, { n: s.n + 1, bytes: s.bytes + r.bytes });
  }
  const total = requests.reduce((sum, r) => sum + r.bytes, 0);
  const lines = [...by]
    .sort((a, b) => b[1].bytes - a[1].bytes)
    .map(([what, s]) => `${String(s.n).padStart(5)} requests ${(s.bytes / 1e6).toFixed(1).padStart(8)} MB  ${what}`);
  return [...lines, `${String(requests.length).padStart(5)} requests ${(total / 1e6).toFixed(1).padStart(8)} MB  in all`].join('\n');
}

/** Stops a child: SIGTERM to its group, SIGKILL after 5 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5000);
  await gone;
  clearTimeout(timer);
}

/** Writes the registry's and the mirror server's configuration into the site folder; returns their paths. */
function writeConfigs(site: Site): { registryYml: string; serverJson: string; requestLog: string } {
  const registryYml = join(site.dir, 'registry.yml');
  writeFileSync(registryYml, registryConfig({ storage: site.registryStorage, addr: `127.0.0.1:${REGISTRY_PORT}`, tls: site.tls.registry, readonly: true }));
  const requestLog = join(site.dir, 'requests.jsonl');
  writeFileSync(requestLog, '');
  const config: ServerConfig = {
    host: site.host,
    port: 443,
    cert: site.tls.server.cert,
    key: site.tls.server.key,
    root: site.www,
    registry: { port: REGISTRY_PORT, ca: site.caCert },
    allow: site.allow,
    log: requestLog,
  };
  const serverJson = join(site.dir, 'server.json');
  writeFileSync(serverJson, JSON.stringify(config));
  return { registryYml, serverJson, requestLog };
}

/** Starts the registry and the mirror server in netns; resolves once the mirror listens (or rejects with its log). */
export async function startSite(site: Site, netns: string, log: (line: string) => void = () => {}): Promise<RunningSite> {
  const { registryYml, serverJson, requestLog } = writeConfigs(site);
  const inNs = (argv: string[]) => ['ip', 'netns', 'exec', netns, ...argv];
  const registry = startBackground(inNs([site.programs.paths.registry!, 'serve', registryYml]), join(site.dir, 'registry.log'));
  const serverLog = join(site.dir, 'server.log');
  const server = startBackground(inNs([process.execPath, join(REPO, 'dist/e2e/cluster/server.js'), serverJson]), serverLog);
  const stop = async () => {
    await stopChild(server);
    await stopChild(registry);
  };
  try {
    await waitFor(
      `the site's mirror server on ${site.origin} in ${netns}`,
      () => {
        if (server.exitCode !== null) throw new Error(`the mirror server exited ${server.exitCode}:\n${tailLines(readFileSync(serverLog, 'utf8'), 20)}`);
        return readFileSync(serverLog, 'utf8').includes('ready');
      },
      45_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  log(`site serving ${site.origin} in ${netns} (request log ${requestLog})`);
  const requests = () => readRequests(requestLog);
  return {
    stop,
    stopSync: () => {
      killGroup(server, 'SIGKILL');
      killGroup(registry, 'SIGKILL');
    },
    requests,
    unlisted: () => requests().filter((r) => !r.verdict.listed && !r.verdict.beyondList),
    beyondList: () => requests().filter((r) => !r.verdict.listed && r.verdict.beyondList !== undefined),
    summary: () => summarize(requests()),
    log: requestLog,
    children: [registry, server],
  };
}
