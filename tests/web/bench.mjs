// The page's size and speed, on the built dist/ in headless Chromium on 127.0.0.1.
//
//   node tests/web/bench.mjs [DIST] [RUNS]
//
// Prints: the transfer size of every file (gzip -9 and brotli); navigation → first full
// render (median, quartiles and best over RUNS first visits, and the repeat visit of each),
// beside two pages loaded the same way in between: a one-line page, which shows what this
// machine needs for any page at all, and the page's own rendered DOM as static HTML with
// no script, which shows what it needs to show this page's content without the app; on
// the page, for a 40-rule Role, the time from a keystroke to the updated outputs and whether
// each keystroke dropped a frame, in series typed from the first frame after the page has
// painted and in series begun a person's reaction time later. Targets: BENCHMARKS.md.
//
// A first visit is a new tab at a URL the browser has never loaded, in one browser context
// made and left to settle first; Chromium is driven over its DevTools pipe. Why, and what
// was measured before choosing so: BENCHMARKS.md.
import { createServer } from 'node:http';
import { readFileSync, readdirSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join, extname, resolve, dirname } from 'node:path';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
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
console.log(`transfer: ${gz} B = ${(gz / 1000).toFixed(1)} KB gzip (target <= 275 KB), ${br} B brotli`);

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
// The baseline: one line of text, with the mark the bench waits for set by a same-origin script.
const BASELINE = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>baseline</title></head><body><p>One line.</p><script src="__baseline.js"></script></body></html>';
// The page as static HTML: its DOM once rendered, without the module script, marked by the
// baseline's script at the end of the body. Taken from the first visit (see below). The
// fields' values are properties, not attributes, so the copy shows the fields empty.
let staticCopy = '';
const STATIC_COPY = `'<!doctype html>' + document.documentElement.outerHTML
  .replace(/<script type="module"[^>]*><\\/script>/, '')
  .replace('</body>', '<script src="__baseline.js"></script></body>')`;
// Every load asks for /load-N/...: the same files under a path the browser has not seen.
const server = createServer((req, res) => {
  const path = new URL(req.url, 'http://x').pathname.replace(/^\/load-\d+\//, '/');
  if (path === '/__baseline.html') { res.writeHead(200, { 'content-type': TYPES['.html'] }).end(BASELINE); return; }
  if (path === '/__baseline.js') { res.writeHead(200, { 'content-type': TYPES['.js'] }).end("performance.mark('cicd-access:rendered')"); return; }
  if (path === '/__static.html') { res.writeHead(200, { 'content-type': TYPES['.html'] }).end(staticCopy); return; }
  const file = join(dist, path === '/' ? 'index.html' : path);
  if (!file.startsWith(dist) || !existsSync(file)) { res.writeHead(404).end(); return; }
  res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
  res.end(readFileSync(file));
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const origin = `http://127.0.0.1:${server.address().port}`;

// Chromium over --remote-debugging-pipe: JSON messages separated by NUL on fds 3 (to it) and 4.
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
const launch = async (executable) => {
  const profile = mkdtempSync(join(tmpdir(), 'cicd-access-bench-'));
  const chromium = spawn(executable, [
    '--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--no-first-run', '--disable-quic', '--disable-dev-shm-usage', '--remote-debugging-pipe',
    `--user-data-dir=${profile}`, '--window-size=1280,720', 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'], detached: true });
  const replies = new Map();
  const waiters = new Set();
  let nextId = 0, received = '';
  chromium.stdio[4].on('data', (chunk) => {
    received += chunk.toString();
    for (let end; (end = received.indexOf('\0')) >= 0; received = received.slice(end + 1)) {
      const message = JSON.parse(received.slice(0, end));
      if (message.id !== undefined) {
        const [ok, fail] = replies.get(message.id);
        replies.delete(message.id);
        if (message.error) fail(new Error(`${message.error.message} (${message.error.code})`)); else ok(message.result);
      } else for (const waiter of waiters) waiter(message);
    }
  });
  const send = (method, params = {}, sessionId = undefined) => new Promise((ok, fail) => {
    const id = ++nextId;
    replies.set(id, [ok, fail]);
    chromium.stdio[3].write(`${JSON.stringify({ id, method, params, sessionId })}\0`);
  });
  const event = (sessionId, method) => new Promise((ok) => {
    const waiter = (message) => {
      if (message.sessionId === sessionId && message.method === method) { waiters.delete(waiter); ok(message.params); }
    };
    waiters.add(waiter);
  });
  const { browserContextId } = await send('Target.createBrowserContext', {});
  await sleep(3000);
  // A new tab, idle for a moment, in the one browser context.
  const openTab = async () => {
    const { targetId } = await send('Target.createTarget', { url: 'about:blank', browserContextId });
    const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
    await send('Page.enable', {}, sessionId);
    await sleep(500);
    const evaluate = async (expression) => {
      const { result, exceptionDetails } = await send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, sessionId);
      if (exceptionDetails) throw new Error(`in the page: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
      return result.value;
    };
    const navigate = async (url) => {
      const committed = event(sessionId, 'Page.frameNavigated');
      const { errorText } = await send('Page.navigate', { url }, sessionId);
      if (errorText) throw new Error(`navigating to ${url}: ${errorText}`);
      await committed;
    };
    const close = () => send('Target.closeTarget', { targetId });
    return { evaluate, navigate, close };
  };
  // Its own process group (detached), killed whole: the headless shell's helper processes
  // outlive a SIGTERM to it and would hold the pipe open.
  const quit = async () => {
    const exited = new Promise((ok) => chromium.once('exit', ok));
    process.kill(-chromium.pid, 'SIGKILL');
    await exited;
    chromium.stdio[3].destroy();
    chromium.stdio[4].destroy();
    rmSync(profile, { recursive: true, force: true });
  };
  return { openTab, quit };
};

const sorted = (xs) => [...xs].sort((a, b) => a - b);
const quantile = (xs, q) => sorted(xs)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const of = (results, key) => results.map((r) => r[key]);
const fmt = (x) => `${x.toFixed(1)} ms`;
const summary = (xs) => `median ${fmt(quantile(xs, 0.5))} (quartiles ${fmt(quantile(xs, 0.25))}–${fmt(quantile(xs, 0.75))}), best ${fmt(Math.min(...xs))}`;

// Navigation → first full render: the later of the page's own mark (set by the first
// render's effect, which Yew runs after it yields to the browser) and the first contentful
// paint (the body is empty until the page renders).
const WAIT_RENDERED = `new Promise((ok) => {
  const done = () => performance.getEntriesByName('cicd-access:rendered').length > 0
    && performance.getEntriesByName('first-contentful-paint').length > 0;
  if (done()) return ok();
  const observer = new PerformanceObserver(() => { if (done()) { observer.disconnect(); ok(); } });
  observer.observe({ entryTypes: ['mark', 'paint'] });
})`;
const MARKS = 'JSON.stringify(Object.fromEntries(performance.getEntries().filter((e) => e.entryType === "mark" || e.entryType === "paint").map((e) => [e.name, e.startTime])))';
const load = async (tab, url) => {
  await tab.navigate(url);
  await tab.evaluate(WAIT_RENDERED);
  const marks = JSON.parse(await tab.evaluate(MARKS));
  return { ...marks, full: Math.max(marks['cicd-access:rendered'], marks['first-contentful-paint']) };
};
// One keystroke with a 40-rule Role: the share link's fragment that opens it.
const resources = ['configmaps', 'pods', 'services', 'secrets', 'endpoints', 'events', 'persistentvolumeclaims', 'serviceaccounts'];
let yaml = 'apiVersion: cicd-access.dev/v1alpha1\nkind: CiCdAccess\nnamespace: team-a\nrules:\n';
for (let i = 0; i < 40; i++) {
  yaml += `- apiGroups: ['']\n  resources: [${resources[i % resources.length]}]\n  resourceNames: [app-${i}]\n  verbs: [get, list, watch, update, patch]\n`;
}
const FORTY_RULES = `#spec=${Buffer.from(yaml).toString('base64url')}`;
// Each keystroke is typed at the start of a frame; the outputs' update is timed by a
// MutationObserver, and the next frame's start tells whether the keystroke's whole work
// (event, core, Yew, style, layout, paint) fit in one frame.
const KEYSTROKE_COUNT = 60;
const KEYSTROKES = `(async () => {
  const input = document.querySelector('#namespace');
  const out = document.querySelector('#manifests');
  const frame = () => new Promise((ok) => requestAnimationFrame(ok));
  const results = [];
  for (let i = 0; i < ${KEYSTROKE_COUNT}; i++) {
    const start = await frame();
    const t0 = performance.now();
    let t1 = NaN;
    const observer = new MutationObserver(() => { if (Number.isNaN(t1)) t1 = performance.now(); });
    observer.observe(out, { childList: true, subtree: true, characterData: true });
    input.value = 'team-' + i;
    input.dispatchEvent(new InputEvent('input', { bubbles: true }));
    const next = await frame();
    observer.disconnect();
    results.push([t1 - t0, next - start]);
  }
  return results;
})()`;

// Both headless Chromiums: the headless shell, which Playwright runs for headless Chromium
// by default (since 1.49), and the full browser's --headless mode, which does more in its
// browser process and on this machine is slower for every page, the one-line page too.
const BROWSERS = [
  ['headless shell (Playwright\'s headless Chromium)', process.env.CHROMIUM_HEADLESS_SHELL ?? '/usr/bin/chromium-headless-shell'],
  ['full browser, --headless', process.env.CHROMIUM ?? '/usr/bin/chromium'],
];
// A person cannot press a key in the frame the page first appears in: seeing it takes a
// reaction time (about 250 ms at the quickest), and the caret must be put in the field
// first. Series typed from that first frame show what cold code costs at the limit; series
// begun 250 ms later show what a person can meet. Both wait for the rendered mark and the
// first paint: polling for the field instead let the first keystroke land in the frame that
// lays out and paints the whole page for the first time.
const SERIES = Number(process.env.SERIES ?? 5);
const STARTS = [['from the first frame after the page has painted (no person is this quick)', 0], ['begun 250 ms after it has painted (a quick person)', 250]];
const DROPPED = 1.5 * (1000 / 60);
for (const [browserName, executable] of BROWSERS) {
  console.log(`\n${browserName}: ${executable}`);
  const { openTab, quit } = await launch(executable);
  // Each run: a first visit of the page in a new tab, then its repeat visit in the same tab
  // (the same URL again: the HTTP and code caches are warm), then the baseline page and the
  // static copy, each in a new tab.
  const firsts = [], repeats = [], baselines = [], statics = [];
  let loads = 0;
  const fresh = (path) => `${origin}/load-${++loads}/${path}`;
  for (let i = 0; i < runs; i++) {
    const tab = await openTab();
    const url = fresh('');
    firsts.push(await load(tab, url));
    if (!staticCopy) staticCopy = await tab.evaluate(STATIC_COPY);
    repeats.push(await load(tab, url));
    await tab.close();
    for (const [page, into] of [['__baseline.html', baselines], ['__static.html', statics]]) {
      const other = await openTab();
      into.push(await load(other, fresh(page)));
      await other.close();
    }
  }
  // The target is a ratio to the same DOM served as static HTML, loaded the same way in
  // between: what the app's script adds to this content, on whatever machine runs it.
  const ratio = quantile(of(firsts, 'full'), 0.5) / quantile(of(statics, 'full'), 0.5);
  console.log(`first full render: ${summary(of(firsts, 'full'))} over ${runs} first visits: ${ratio.toFixed(2)}× the static copy's median (target <= 1.6×)`);
  console.log(`  milestones (median): loader running ${fmt(quantile(of(firsts, 'cicd-access:boot'), 0.5))}, wasm base64-decoded (inflated while it compiles) ${fmt(quantile(of(firsts, 'cicd-access:decoded'), 0.5))}, wasm compiled and started ${fmt(quantile(of(firsts, 'cicd-access:start'), 0.5))}, rendered mark ${fmt(quantile(of(firsts, 'cicd-access:rendered'), 0.5))}, first contentful paint ${fmt(quantile(of(firsts, 'first-contentful-paint'), 0.5))}`);
  console.log(`  repeat visit (the same URL in the same tab): ${summary(of(repeats, 'full'))}`);
  console.log(`  baseline, a one-line page loaded the same way in between: ${summary(of(baselines, 'full'))}`);
  console.log(`  the page's rendered DOM as static HTML, no script, loaded the same way: ${summary(of(statics, 'full'))}`);

  // Keystrokes with a 40-rule Role: SERIES fresh tabs for each way of starting.
  for (const [start, delay] of STARTS) {
    const firstFrames = [], laterFrames = [], updates = [];
    let rules = 0;
    for (let i = 0; i < SERIES; i++) {
      const tab = await openTab();
      await tab.navigate(`${fresh('')}${FORTY_RULES}`);
      await tab.evaluate(WAIT_RENDERED);
      if (delay) await tab.evaluate(`new Promise((ok) => setTimeout(ok, ${delay}))`);
      rules = await tab.evaluate(`document.querySelectorAll('ol.rules > li').length`);
      const timings = await tab.evaluate(KEYSTROKES);
      await tab.close();
      updates.push(...timings.map((t) => t[0]));
      firstFrames.push(timings[0][1]);
      laterFrames.push(...timings.slice(1).map((t) => t[1]));
      // DEBUG_FRAMES=1: every keystroke's frame and update time, in the order typed.
      if (process.env.DEBUG_FRAMES) console.log(JSON.stringify(timings.map((t) => Math.round(t[1]))), JSON.stringify(timings.map((t) => Math.round(t[0]))));
    }
    const dropped = (frames) => frames.filter((f) => f > DROPPED).length;
    console.log(`keystrokes ${start}, ${rules} rules, ${SERIES} series of ${KEYSTROKE_COUNT}:`);
    console.log(`  keystroke → outputs updated: median ${fmt(quantile(updates, 0.5))}, p95 ${fmt(quantile(updates, 0.95))} (target <= 16 ms), max ${fmt(Math.max(...updates))}`);
    console.log(`  dropped a frame: the first keystroke in ${dropped(firstFrames)} of ${SERIES} series, later keystrokes ${dropped(laterFrames)} of ${laterFrames.length}; frame after a keystroke: median ${fmt(quantile([...firstFrames, ...laterFrames], 0.5))}, max ${fmt(Math.max(...firstFrames, ...laterFrames))}`);
  }
  await quit();
}
server.close();
