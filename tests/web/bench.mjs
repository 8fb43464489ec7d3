// The page's size and speed, on the built dist/ in headless Chromium on 127.0.0.1.
//
//   node tests/web/bench.mjs [DIST] [RUNS]
//
// Prints: the transfer size of every file (gzip -9 and brotli); navigation → first full
// render (median and best over RUNS first visits, each in a fresh browser context, and the
// repeat visit in the same context); on the page, for a 40-rule Role, the time from a
// keystroke to the updated outputs and whether each keystroke dropped a frame.
import { createServer } from 'node:http';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, extname, resolve, dirname } from 'node:path';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(join(root, 'target/node-tools/'));
const { chromium } = require('playwright-core');
const dist = resolve(process.argv[2] ?? join(root, 'dist'));
const runs = Number(process.argv[3] ?? 15);

// Sizes.
let gz = 0, br = 0, raw = 0;
console.log('file                                        raw      gzip    brotli');
for (const file of readdirSync(dist).sort()) {
  const bytes = readFileSync(join(dist, file));
  const g = gzipSync(bytes, { level: 9 }).length;
  const b = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  raw += bytes.length; gz += g; br += b;
  console.log(`${file.padEnd(40)} ${String(bytes.length).padStart(8)} ${String(g).padStart(8)} ${String(b).padStart(8)}`);
}
console.log(`${'total'.padEnd(40)} ${String(raw).padStart(8)} ${String(gz).padStart(8)} ${String(br).padStart(8)}`);
console.log(`transfer: ${(gz / 1024).toFixed(1)} KiB gzip, ${(br / 1024).toFixed(1)} KiB brotli (target <= 250 KB)`);

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
const server = createServer((req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  const file = join(dist, path === '/' ? 'index.html' : path);
  if (!file.startsWith(dist) || !existsSync(file)) { res.writeHead(404).end(); return; }
  res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
  res.end(readFileSync(file));
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const origin = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--disable-dev-shm-usage'],
});

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x) => `${x.toFixed(1)} ms`;

// Navigation → first full render: the later of the page's own mark (set by the first
// render's effect, which Yew runs after it yields to the browser) and the first contentful
// paint (the body is empty until the page renders). The wait is one small script sent over
// CDP: Playwright's selector engine would be injected and compiled in the middle of the load.
const WAIT_RENDERED = `new Promise((ok) => {
  const done = () => performance.getEntriesByName('cicd-access:rendered').length > 0
    && performance.getEntriesByName('first-contentful-paint').length > 0;
  if (done()) return ok();
  const observer = new PerformanceObserver(() => { if (done()) { observer.disconnect(); ok(); } });
  observer.observe({ entryTypes: ['mark', 'paint'] });
})`;
const load = async (page, cdp) => {
  await page.goto(`${origin}/`, { waitUntil: 'commit' });
  await cdp.send('Runtime.evaluate', { expression: WAIT_RENDERED, awaitPromise: true });
  const { result } = await cdp.send('Runtime.evaluate', {
    expression: 'JSON.stringify(Object.fromEntries(performance.getEntries().filter((e) => e.entryType === "mark" || e.entryType === "paint").map((e) => [e.name, e.startTime])))',
  });
  const marks = JSON.parse(result.value);
  return { ...marks, full: Math.max(marks['cicd-access:rendered'], marks['first-contentful-paint']) };
};
// A first visit in a fresh browser context, then a repeat visit in the same context.
const firsts = [], repeats = [];
for (let i = 0; i < runs; i++) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  firsts.push(await load(page, cdp));
  repeats.push(await load(page, cdp));
  await context.close();
}
const of = (loads, key) => loads.map((l) => l[key]);
console.log(`first full render: median ${fmt(median(of(firsts, 'full')))}, best ${fmt(Math.min(...of(firsts, 'full')))} over ${runs} first visits (target <= 150 ms)`);
console.log(`  milestones (median): loader running ${fmt(median(of(firsts, 'cicd-access:boot')))}, wasm base64-decoded (inflated while it compiles) ${fmt(median(of(firsts, 'cicd-access:decoded')))}, wasm compiled and started ${fmt(median(of(firsts, 'cicd-access:start')))}, rendered mark ${fmt(median(of(firsts, 'cicd-access:rendered')))}, first contentful paint ${fmt(median(of(firsts, 'first-contentful-paint')))}`);
console.log(`  repeat visit (same browser context): median ${fmt(median(of(repeats, 'full')))}, best ${fmt(Math.min(...of(repeats, 'full')))}`);

// One keystroke with a 40-rule Role.
const resources = ['configmaps', 'pods', 'services', 'secrets', 'endpoints', 'events', 'persistentvolumeclaims', 'serviceaccounts'];
let yaml = 'apiVersion: cicd-access.dev/v1alpha1\nkind: CiCdAccess\nnamespace: team-a\nrules:\n';
for (let i = 0; i < 40; i++) {
  yaml += `- apiGroups: ['']\n  resources: [${resources[i % resources.length]}]\n  resourceNames: [app-${i}]\n  verbs: [get, list, watch, update, patch]\n`;
}
const hash = Buffer.from(yaml).toString('base64url');
const context = await browser.newContext();
const page = await context.newPage();
await page.goto(`${origin}/#spec=${hash}`);
await page.waitForSelector('#manifests');
const rules = await page.locator('ol.rules > li').count();
// Each keystroke is typed at the start of a frame; the outputs' update is timed by a
// MutationObserver, and the next frame's start tells whether the keystroke's whole work
// (event, core, Yew, style, layout, paint) fit in one frame.
const timings = await page.evaluate(async () => {
  const input = document.querySelector('#namespace');
  const out = document.querySelector('#manifests');
  const frame = () => new Promise((ok) => requestAnimationFrame(ok));
  const results = [];
  for (let i = 0; i < 60; i++) {
    const start = await frame();
    const t0 = performance.now();
    let t1 = NaN;
    const observer = new MutationObserver(() => { if (Number.isNaN(t1)) t1 = performance.now(); });
    observer.observe(out, { childList: true, subtree: true, characterData: true });
    input.value = `team-${i}`;
    input.dispatchEvent(new InputEvent('input', { bubbles: true }));
    const next = await frame();
    observer.disconnect();
    results.push([t1 - t0, next - start]);
  }
  return results;
});
const updates = timings.map((t) => t[0]);
const frames = timings.map((t) => t[1]);
const dropped = frames.filter((f) => f > 1.5 * (1000 / 60)).length;
console.log(`keystroke → outputs updated (${rules} rules, on the page): median ${fmt(median(updates))}, max ${fmt(Math.max(...updates))}`);
console.log(`keystroke frame → next frame: median ${fmt(median(frames))}, max ${fmt(Math.max(...frames))}; ${dropped} of ${frames.length} keystrokes dropped a frame (target 0)`);
await browser.close();
server.close();
