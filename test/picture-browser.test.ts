/**
 * The picture as a person sees it, in a real browser (Debian's Chromium, headless): each SVG is parsed by the browser's
 * XML parser and rendered, then, in the page, every host name (and the VIP) must be drawn inside the picture with
 * nothing painted over it, every text must lie inside the box it belongs to and overlap no other text; and each picture
 * renders to a PNG of its own size.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import { clusterSvg } from '../src/render/picture/index.js';
import type { ClusterModel } from '../src/model/types.js';
import { isWorkerOnly, MAX_DRAWN_WORKERS } from '../src/render/picture/view.js';
import { dumpDom, pngSize, screenshot } from './browser.js';
import { cleanup, tempDir, testNeeding } from './helpers.js';
import { moreInventories, pictureCases } from './picture-cases.js';

/**
 * Runs in the page: parses the SVG (as XML), shows it, and reports what a reader could not see. A text counts as seen
 * when its box lies inside the picture and the topmost element at its centre is the text itself.
 */
const CHECK = `
const report = { errors: [], found: {}, texts: 0 };
try {
  const parsed = new DOMParser().parseFromString(SOURCE, 'image/svg+xml');
  const error = parsed.querySelector('parsererror');
  if (error) throw new Error('not well-formed XML: ' + error.textContent);
  const svg = document.importNode(parsed.documentElement, true);
  document.body.prepend(svg);
  const width = svg.width.baseVal.value, height = svg.height.baseVal.value;
  const texts = [...svg.querySelectorAll('text')];
  const boxes = texts.map((t) => t.getBoundingClientRect());
  report.texts = texts.length;
  const name = (i) => JSON.stringify(texts[i].textContent);
  boxes.forEach((b, i) => {
    if (b.width === 0 || b.left < 0 || b.top < 0 || b.right > width || b.bottom > height) report.errors.push(name(i) + ' is outside the picture');
    const rect = texts[i].parentElement.querySelector(':scope > rect');
    const r = rect && rect.getBoundingClientRect();
    if (r && (b.left < r.left - 0.5 || b.right > r.right + 0.5 || b.top < r.top - 0.5 || b.bottom > r.bottom + 0.5)) report.errors.push(name(i) + ' sticks out of its box');
    for (let j = 0; j < i; j++) {
      const o = boxes[j];
      if (b.left < o.right - 1 && o.left < b.right - 1 && b.top < o.bottom - 1 && o.top < b.bottom - 1) report.errors.push(name(i) + ' overlaps ' + name(j));
    }
  });
  for (const wanted of WANTED) {
    const seen = texts.filter((t, i) => {
      const b = boxes[i];
      const top = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
      return t.textContent === wanted && top && (top === t || t.contains(top));
    });
    report.found[wanted] = seen.length;
  }
} catch (e) {
  report.errors.push(String(e));
}
document.getElementById('report').textContent = JSON.stringify(report);
`;

/** An HTML page that checks `svg` with CHECK, the SVG and the wanted texts as JSON (no `<` left to end the script). */
function checkPage(svg: string, wanted: readonly string[]): string {
  const json = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');
  return `<!doctype html><html><head><meta charset="utf-8"><style>html,body{margin:0}</style></head><body><pre id="report"></pre>
<script>const SOURCE = ${json(svg)}; const WANTED = ${json(wanted)};${CHECK}</script></body></html>`;
}

/** The report the page left in its DOM. */
function reportOf(dom: string): { errors: string[]; found: Record<string, number>; texts: number } {
  const text = /<pre id="report">([^<]*)<\/pre>/.exec(dom)?.[1];
  if (text === undefined) throw new Error(`no report in the page: ${dom.slice(0, 500)}`);
  return JSON.parse(text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
}

const cases = pictureCases();

/** What a reader must see, from the inventory alone: every host's name (workers-only hosts as their count beyond MAX_DRAWN_WORKERS) and the endpoint. */
function wantedTexts(model: ClusterModel): string[] {
  const workersOnly = model.hosts.filter(isWorkerOnly);
  const collapsed = workersOnly.length > MAX_DRAWN_WORKERS;
  const names = model.hosts.filter((h) => !(collapsed && isWorkerOnly(h))).map((h) => h.name);
  const lb = model.loadBalancer;
  const endpoint = lb ? `VIP ${lb.vip}:${lb.port}` : `API ${model.init.address}:6443`;
  return [...names, ...(collapsed ? [`${workersOnly.length} workers`] : []), endpoint];
}

testNeeding(['chromium'], 'Chromium draws every host name and the endpoint of each picture, fully seen, each text in its box, none on another', () => {
  const dir = tempDir();
  try {
    const all = [...cases, ...moreInventories()];
    assert.is(all.length, 18, 'examples, synthetic cases, e2e and golden inventories (e2e cluster-137 and golden kubernetes-1.37 included)');
    for (const [path, model] of all) {
      const name = path.replace(/[/.]/g, '_');
      const svg = clusterSvg(model);
      const wanted = wantedTexts(model);
      const page = join(dir, `${name}.html`);
      writeFileSync(page, checkPage(svg, wanted));
      const size = /width="(\d+)" height="(\d+)"/.exec(svg)!;
      const report = reportOf(dumpDom(page, { width: Number(size[1]) + 20, height: Number(size[2]) + 40 }));
      assert.equal(report.errors, [], name);
      assert.equal(
        Object.entries(report.found).filter(([, n]) => n !== 1),
        [],
        `${name}: each of ${wanted.length} names seen exactly once`,
      );
      assert.ok(report.texts > 20, `${name}: ${report.texts} texts`);
    }
  } finally {
    cleanup(dir);
  }
});

testNeeding(['chromium'], 'Chromium renders each picture to a PNG of its size (kept in KUBEHA_PICTURES when set, to look at)', () => {
  const dir = process.env.KUBEHA_PICTURES ?? tempDir();
  try {
    for (const [name, model] of cases) {
      const svg = clusterSvg(model);
      const file = join(dir, `${name}.svg`);
      writeFileSync(file, svg);
      const size = /width="(\d+)" height="(\d+)"/.exec(svg)!;
      const want = { width: Number(size[1]), height: Number(size[2]) };
      const png = screenshot(file, join(dir, `${name}.png`), want);
      assert.equal(pngSize(png), want, name);
      assert.ok(png.length > 20_000, `${name}: a ${png.length}-byte PNG holds a drawing, not a blank page`);
    }
  } finally {
    if (!process.env.KUBEHA_PICTURES) cleanup(dir);
  }
});

test.run();
