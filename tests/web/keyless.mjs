// The page's keyless (OIDC) access in headless Chromium, on the built dist/ from 127.0.0.1.
//
//   node tests/web/keyless.mjs INPUT.json OUTPUT.json
//
// INPUT: { dist, ca }. OUTPUT: what the page showed in the keyless state and the axe-core
// violations there. The Rust test (tests/tests/web_e2e.rs) asserts on it.
import { createServer } from 'node:http';
import { readFileSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { join, extname, resolve, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const require = createRequire(join(root, 'target/node-tools/'));
const { chromium } = require('playwright-core');

const [inputPath, outputPath] = process.argv.slice(2);
const input = JSON.parse(readFileSync(inputPath, 'utf8'));
const dist = resolve(input.dist);

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
const server = createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const file = join(dist, path.endsWith('/') ? path + 'index.html' : path);
  if (!file.startsWith(dist) || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
  res.end(readFileSync(file));
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const origin = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--no-first-run', '--disable-quic', '--disable-dev-shm-usage'],
});
const out = { axe: [], axeStates: [], pageErrors: [], consoleErrors: [] };
const axeSource = readFileSync(join(root, 'target/node-tools/node_modules/axe-core/axe.min.js'), 'utf8');
async function axe(page, state) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(`${axeSource};0`);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
  });
  out.axeStates.push(state);
  for (const v of violations) out.axe.push({ state, ...v });
}
const text = (page, selector) => page.locator(selector).textContent();

try {
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, acceptDownloads: true });
  const page = await context.newPage();
  page.on('pageerror', (e) => out.pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') out.consoleErrors.push(m.text()); });
  await page.goto(`${origin}/`);
  await page.waitForSelector('#app-ready');
  await page.uncheck('#current-namespace');
  await page.fill('#namespace', 'demo');
  await page.fill('#server', 'https://api.example.com:6443');
  await page.check('#token-keyless');
  await page.waitForSelector('#token-repository');
  await page.fill('#token-repository', 'org app');
  await page.fill('#token-ref', 'refs/heads/main');
  await page.waitForSelector('#token-repository-error');
  out.repositoryError = await text(page, '#token-repository-error');
  out.repositoryInvalid = await page.getAttribute('#token-repository', 'aria-invalid');
  out.withheld = await text(page, '#withheld');
  await axe(page, 'keyless invalid repository');

  await page.fill('#token-repository', 'org/app');
  await page.waitForSelector('#manifests');
  out.repositoryErrorAfterFix = await page.locator('#token-repository-error').count();
  out.manifests = await text(page, '#manifests');
  await page.click('#tab-cluster');
  await page.waitForSelector('#auth-v1');
  out.authV1 = await text(page, '#auth-v1');
  out.authV1beta1 = await text(page, '#auth-v1beta1');
  out.oidcFlags = await text(page, '#oidc-flags');
  out.eks = await text(page, '#eks');
  out.guide = await text(page, '#keyless-guide');
  await axe(page, 'keyless cluster side');
  await page.click('#tab-github');
  out.github = await text(page, '#github');

  await page.fill('#ca-text', input.ca);
  await page.click('#assemble');
  await page.waitForSelector('#kubeconfig-ready, #kubeconfig-error');
  out.kubeconfigError = (await page.locator('#kubeconfig-error').count()) ? await text(page, '#kubeconfig-error') : null;
  out.kubeconfigParts = await text(page, '#kubeconfig-ready');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.click('#kubeconfig-ready button[aria-label^="Download the kubeconfig"]'),
  ]);
  out.kubeconfig = readFileSync(await download.path(), 'utf8');
  await axe(page, 'keyless kubeconfig ready');

  // The share link carries the keyless identity: opened anew, the page shows it again.
  await page.waitForTimeout(400);
  const link = await page.evaluate(() => location.href);
  const again = await context.newPage();
  await again.goto(link);
  await again.waitForSelector('#manifests');
  out.reopenedManifests = await text(again, '#manifests');
  out.reopenedRepository = await again.inputValue('#token-repository');
  out.reopenedKeyless = await again.isChecked('#token-keyless');
} finally {
  writeFileSync(outputPath, JSON.stringify(out, null, 2));
  await browser.close();
  server.close();
}
