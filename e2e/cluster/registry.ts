/**
 * The site's registry: the distribution registry (built from its module) holding the images under exactly the names
 * `gen artifacts` lists. Its storage is filled once per list of names (crane push of the cached OCI layouts into a
 * registry on loopback) and cached; the running site serves it read-only over TLS behind the mirror.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ArtifactList } from '../../src/render/mirror-list.js';
import { runOrThrow, killGroup, startBackground, waitFor } from '../proc.js';
import { cachedDir, keyOf } from './cache.js';
import { splitImage } from './allowlist.js';
import { freePort, IMAGE_SPECS, imageKey, type ImageSpec } from './images.js';
import type { SiteBuild } from './site.js';

/** The registry's configuration: filesystem storage, loopback address, TLS when given, read-only when serving. */
export function registryConfig(o: { storage: string; addr: string; tls?: { cert: string; key: string }; readonly: boolean }): string {
  const tls = o.tls ? ['  tls:', `    certificate: ${o.tls.cert}`, `    key: ${o.tls.key}`] : [];
  return `${[
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${o.storage}`,
    '  delete:',
    '    enabled: false',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    '    readonly:',
    `      enabled: ${o.readonly}`,
    'http:',
    `  addr: ${o.addr}`,
    ...tls,
  ].join('\n')}\n`;
}

/** Each listed image with the spec it is made from; an image the site cannot make, or under another version, throws. */
export function imagePlan(list: ArtifactList): { image: string; spec: ImageSpec; note?: string }[] {
  return list.images.map((i) => {
    const named = IMAGE_SPECS.filter((s) => s.name === i.name);
    if (named.length === 0)
      throw new Error(`the site cannot make ${i.image} (${i.name}): it builds ${[...new Set(IMAGE_SPECS.map((s) => s.name))].join(', ')}`);
    const { tag } = splitImage(i.image);
    const spec = named.find((s) => s.tag === undefined || s.tag === tag);
    if (!spec) throw new Error(`gen artifacts lists ${i.image} but the site builds ${i.name} ${named.map((s) => s.tag).join(' and ')}`);
    return { image: i.image, spec, ...(spec.note ? { note: `${i.image}: ${spec.note}` } : {}) };
  });
}

/** The cached registry storage holding every listed image under its listed name. */
export async function registryStorage(list: ArtifactList, built: SiteBuild, log: (line: string) => void) {
  const plan = imagePlan(list);
  const pushes = plan.map((p) => ({ ...splitImage(p.image), layout: built.images.layouts[imageKey(p.spec)]!, image: p.image }));
  const made = await cachedDir('registry', keyOf({ pushes: pushes.map((p) => [p.repository, p.tag, p.layout]) }), async (tmp) => {
    log(`registry: pushing ${pushes.length} images under their listed names`);
    const port = await freePort();
    const config = join(tmp, 'config.yml');
    writeFileSync(config, registryConfig({ storage: join(tmp, 'storage'), addr: `127.0.0.1:${port}`, readonly: false }));
    const server = startBackground([built.programs.paths.registry!, 'serve', config], join(tmp, 'registry.log'));
    try {
      await waitFor('the registry to answer', async () => (await fetch(`http://127.0.0.1:${port}/v2/`).catch(() => null))?.status === 200, 30_000);
      for (const p of pushes) runOrThrow([built.programs.paths.crane!, '--insecure', 'push', p.layout, `127.0.0.1:${port}/${p.repository}:${p.tag}`], 600_000);
    } finally {
      killGroup(server, 'SIGTERM');
    }
  });
  return {
    dir: join(made.dir, 'storage'),
    images: pushes.map((p) => ({ image: p.image, layout: p.layout })),
    notes: plan.flatMap((p) => (p.note ? [p.note] : [])),
  };
}
