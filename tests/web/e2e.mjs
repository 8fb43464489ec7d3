// The page end to end, in headless Chromium, on the built dist/ served from 127.0.0.1.
//
//   node tests/web/e2e.mjs INPUT.json OUTPUT.json
//
// INPUT: { dist, screenshots, namespace, server, secret, canIList: {who: text}, forbidden: text,
//   boundToken, ca, roleFile, auditListing, auditBindings }
// OUTPUT: what the page showed (manifests, script, spec, verdicts, kubeconfig path), every
// request it made, console errors, CSP violations, timings. The Rust test
// (tests/tests/web_e2e.rs) asserts on it; this script only drives and records.
import { createServer } from 'node:http';
import { mkdirSync, readFileSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { join, extname, resolve, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';


// The page writes the address bar once typing pauses (HASH_DELAY_MS = 250 in web/src/lib.rs).
const settledUrl = async (page) => {
  await page.waitForTimeout(400);
  return page.evaluate(() => location.href);
};

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const require = createRequire(join(root, 'target/node-tools/'));
const { chromium } = require('playwright-core');

const [inputPath, outputPath] = process.argv.slice(2);
const input = JSON.parse(readFileSync(inputPath, 'utf8'));
const dist = resolve(input.dist);
const shots = resolve(input.screenshots);
mkdirSync(shots, { recursive: true });

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
const served = [];
const server = createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const file = join(dist, path.endsWith('/') ? path + 'index.html' : path);
  served.push(path);
  if (!file.startsWith(dist) || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': path.endsWith('/') ? 'no-cache' : 'max-age=31536000, immutable' });
  res.end(readFileSync(file));
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const origin = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--no-first-run', '--disable-quic', '--disable-dev-shm-usage'],
});
const out = { origin, requests: [], consoleErrors: [], cspViolations: [], pageErrors: [], timings: {}, axe: [], axeStates: [] };

// axe-core, evaluated through DevTools (the page's CSP would refuse it as a script tag).
const axeSource = readFileSync(join(root, 'target/node-tools/node_modules/axe-core/axe.min.js'), 'utf8');
async function axe(page, state) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(`${axeSource};0`);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary?.split('\n').slice(1, 3).join(' ')}`) }));
  });
  out.axeStates.push(state);
  for (const v of violations) out.axe.push({ state, ...v });
}

async function open(url, viewport = { width: 1440, height: 1000 }, colorScheme = 'light', ready = '#app-ready') {
  const context = await browser.newContext({ viewport, acceptDownloads: true, colorScheme });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  const page = await context.newPage();
  page.on('request', (r) => out.requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') out.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => out.pageErrors.push(String(e)));
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.goto(url);
  await page.waitForSelector(ready);
  return { context, page };
}

async function collectCsp(page) {
  out.cspViolations.push(...(await page.evaluate(() => window.__csp)));
}

const text = (page, selector) => page.locator(selector).textContent();

// 1. First load: the default page, and how long it took to render.
let { context, page } = await open(`${origin}/`);
await page.waitForSelector('#manifests');
out.timings.firstRenderMs = await page.evaluate(() => performance.getEntriesByName('cicd-access:rendered')[0]?.startTime ?? -1);
await page.screenshot({ path: join(shots, '01-start-wide.png'), fullPage: true });
await axe(page, 'start');

// Helm changes the Role, the snippet and the link; back to kubectl apply undoes it.
const startUrl = await settledUrl(page);
await page.selectOption('#deployer', 'helm');
out.helmManifests = await text(page, '#manifests');
out.helmUrlChanged = (await settledUrl(page)) !== startUrl;
await page.click('#tab-github');
out.helmGithub = await text(page, '#github');
await page.click('#tab-manifests');
await page.selectOption('#deployer', 'apply');
out.applyManifests = await text(page, '#manifests');
out.deployTitle = await page.getAttribute('button[aria-label^="Rule 1: deploy verbs"]', 'title');

// Names with a space or capitals are refused at the field, by the core's rules.
await page.fill('#rule-0-names', 'my app');
out.namesError = await text(page, '#rule-0-names-error');
await axe(page, 'invalid resource name');
await page.fill('#rule-0-names', '');

// Keyboard: "Browse all" and a chip's × keep the focus on the page.
await page.focus('#catalog-browse');
await page.keyboard.press('Enter');
await page.waitForSelector('#catalog-list');
out.focusAfterBrowse = await page.evaluate(() => document.activeElement?.id);
await axe(page, 'catalog open');
await page.focus('button[aria-label="Remove services from rule 2"]');
await page.keyboard.press('Enter');
await page.waitForSelector('#undo-button');
await page.waitForFunction(() => document.activeElement?.id === 'undo-button', null, { timeout: 2000 }).catch(() => {});
out.focusAfterChip = await page.evaluate(() => document.activeElement?.id);
out.undoText = await text(page, '#undo');
await axe(page, 'undo offered');
await page.keyboard.press('Enter');
out.undoneManifests = await text(page, '#manifests');

// A preset replaces the rules; Undo brings them back.
await page.selectOption('#preset', 'read-only');
await page.click('#undo-button');
out.presetUndoneManifests = await text(page, '#manifests');

// 1280 px: the outputs stay in view while the rules are edited.
await page.setViewportSize({ width: 1280, height: 900 });
// The catalog's search at the top of the window: a person adding resources.
await page.evaluate(() => document.querySelector('#catalog-search').scrollIntoView({ block: 'start' }));
out.outputsTopWhileEditing = await page.evaluate(() => document.querySelector('#outputs-title').getBoundingClientRect().top);
await page.screenshot({ path: join(shots, '01b-editing-1280.png') });
await page.setViewportSize({ width: 1440, height: 1000 });
await page.evaluate(() => window.scrollTo(0, 0));

// 2. Welkin preset, our namespace, one more rule from the catalog.
await page.selectOption('#preset', 'welkin-user-demo');
await page.uncheck('#current-namespace');
await page.fill('#namespace', input.namespace);
await page.fill('#catalog-search', 'statefulsets');
await page.getByRole('button', { name: /^Add statefulsets \(apps\) with deploy verbs/ }).click();
await page.fill('#catalog-search', '');
out.manifests = await text(page, '#manifests');
await page.screenshot({ path: join(shots, '02-welkin-namespace-rule.png'), fullPage: true });
await page.click('#manifests-each');
out.documents = await page.locator('.output pre.code').allTextContents();
await page.click('#tab-steps');
out.steps = await page.locator('#steps > li').count();
await page.click('#tab-script');
out.script = await text(page, '#script');
await page.click('#tab-github');
out.github = await text(page, '#github');
await page.click('#tab-gitlab');
out.gitlab = await text(page, '#gitlab');

// Keyboard: the output tabs move with the arrow keys.
await page.focus('#tab-gitlab');
await page.keyboard.press('ArrowLeft');
out.keyboardTab = await page.evaluate(() => document.activeElement?.id);

// Copy puts exactly the shown text on the clipboard.
await page.click('#tab-script');
await page.getByRole('button', { name: 'Copy the script' }).click();
out.clipboardEqualsScript = (await page.evaluate(() => navigator.clipboard.readText())) === out.script;

// Export: the CiCdAccess spec file.
const specDownload = page.waitForEvent('download');
await page.click('#export-spec');
const specPath = join(shots, 'exported.spec.yaml');
await (await specDownload).saveAs(specPath);
out.specPath = specPath;

// 3. Check before applying: can-i --list of each identity, then the real 403.
out.verdicts = {};
for (const [who, list] of Object.entries(input.canIList)) {
  await page.fill('#check-text', list);
  out.verdicts[who] = await text(page, '#verdict');
  await axe(page, `verdict ${who}`);
  if (who === 'namespace-admin') {
    await page.locator('#check-title').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(shots, '03-check-can-i-refused.png'), fullPage: true });
    out.lackingMarked = await page.locator('.rule.lacking').count();
    out.adminRequestButton = await page.getByRole('button', { name: 'Copy the request for your administrator' }).count();
    await page.click('#drop-lacking');
    out.verdictAfterDrop = await text(page, '#verdict');
    out.lackingAfterDrop = await page.locator('.rule.lacking').count();
    await page.click('#undo-button');
    await page.click('#tab-manifests');
    await page.click('#manifests-all');
    out.manifestsAfterDropUndone = await text(page, '#manifests');
  }
}
await page.fill('#check-text', input.forbidden);
out.verdicts.forbidden = await text(page, '#verdict');

// 4. Kubeconfig from the real Secret, offline. Another Secret than step 1's is refused.
const renamed = JSON.parse(input.secret);
renamed.metadata.name = 'someone-else';
await page.fill('#secret-text', JSON.stringify(renamed));
await page.fill('#kubeconfig-server', input.server);
await page.click('#assemble');
out.otherSecretError = await text(page, '#kubeconfig-error');
await page.fill('#secret-text', input.secret);
await page.fill('#kubeconfig-server', input.server);
await page.click('#assemble');
await page.waitForSelector('#kubeconfig-ready');
const kubeconfigDownload = page.waitForEvent('download');
await page.getByRole('button', { name: /^Download the kubeconfig as/ }).click();
const kubeconfigPath = join(shots, 'kubeconfig_ci_cd.yaml');
await (await kubeconfigDownload).saveAs(kubeconfigPath);
out.kubeconfigPath = kubeconfigPath;
out.kubeconfigParts = await text(page, '#kubeconfig-parts');
await page.getByRole('button', { name: 'Copy the kubeconfig in base64 (for the CI secret)' }).click();
out.clipboardBase64 = await page.evaluate(() => navigator.clipboard.readText());
await page.locator('#kubeconfig-title').scrollIntoViewIfNeeded();
await page.screenshot({ path: join(shots, '04-kubeconfig.png'), fullPage: true });
await axe(page, 'kubeconfig ready');
out.urlAfterSecret = await settledUrl(page);

// A bound token: no Secret to ask for; the token and the CA are pasted instead.
await page.check('#token-bound');
out.boundHint = await text(page, '#token-text-hint');
out.boundSecretField = await page.locator('#secret-text').count();
await page.fill('#token-text', input.boundToken);
await page.fill('#ca-text', input.ca);
await page.click('#assemble');
await page.waitForSelector('#kubeconfig-ready');
out.boundParts = await text(page, '#kubeconfig-parts');
const boundDownload = page.waitForEvent('download');
await page.getByRole('button', { name: /^Download the kubeconfig as/ }).click();
out.boundKubeconfigPath = join(shots, 'kubeconfig_bound.yaml');
await (await boundDownload).saveAs(out.boundKubeconfigPath);
await axe(page, 'bound token kubeconfig');
await page.check('#token-secret');

// The audit: real `kubectl get` output of the namespace (its Secret's token included) and of
// the ClusterRoleBindings. A paste that is not JSON first.
out.auditHint = await text(page, '#audit-listing-hint');
await page.fill('#audit-listing', 'NAME      SECRETS   AGE\nci-cd     1         2m');
await page.click('#audit-read');
out.auditError = await text(page, '#audit-error');
await page.fill('#audit-listing', input.auditListing);
await page.fill('#audit-bindings', input.auditBindings);
await page.click('#audit-read');
await page.waitForSelector('#audit-verdict');
out.auditVerdict = await text(page, '#audit-verdict');
out.auditVerdictClass = await page.getAttribute('#audit-verdict', 'class');
out.auditListingAfter = await page.inputValue('#audit-listing');
out.auditPageText = await page.evaluate(() => document.body.innerText);
await page.locator('#audit-title').scrollIntoViewIfNeeded();
await page.screenshot({ path: join(shots, '04-audit.png'), fullPage: false });
await axe(page, 'audit report');
await page.check('#audit-against-form');
out.auditAgainstForm = await text(page, '#audit-verdict');
await page.click('#audit-clear');
out.auditCleared = await page.locator('#audit-verdict').count();

// 5. Invalid input: the message at the field, the outputs say why.
await page.click('#tab-manifests');
await page.click('#manifests-all');
await page.fill('#namespace', 'Team_A');
out.namespaceError = await text(page, '#namespace-error');
out.withheld = await text(page, '#withheld');
await page.screenshot({ path: join(shots, '05-invalid-namespace.png'), fullPage: false });
await page.fill('#namespace', input.namespace);
await page.waitForSelector('#manifests');

// 6. The server goes away: the page keeps working.
const shareUrl = await settledUrl(page);
out.shareUrl = shareUrl;
await new Promise((ok) => server.close(ok));
server.closeAllConnections?.();
await page.fill('#namespace', `${input.namespace}-offline`);
out.offlineManifests = await text(page, '#manifests');
await page.fill('#namespace', input.namespace);
await collectCsp(page);
await context.close();

// The share link and the embed view need the files again.
await new Promise((ok) => server.listen(Number(new URL(origin).port), '127.0.0.1', ok));

// 7. Reload from the share link: the same page.
({ context, page } = await open(shareUrl));
out.sharedManifests = await text(page, '#manifests');
out.sharedNamespace = await page.inputValue('#namespace');
await collectCsp(page);
await context.close();

// Import the exported spec file into a fresh page: the same access.
({ context, page } = await open(`${origin}/`));
await page.setInputFiles('#import-spec', specPath);
await page.waitForFunction((ns) => document.querySelector('#manifests')?.textContent.includes(`namespace: ${ns}`), input.namespace);
out.importedManifests = await text(page, '#manifests');
out.importNotice = await text(page, '#notice');
// A plain Role (the documentation's ci-cd-role.yaml) imports too, with its summary.
await page.setInputFiles('#import-spec', input.roleFile);
await page.waitForFunction(() => document.querySelector('#notice')?.textContent.includes('read Role'));
out.roleImportNotice = await text(page, '#notice');
out.roleImportManifests = await text(page, '#manifests');
out.roleSummary = await text(page, '#role-summary');
await axe(page, 'role imported');
await collectCsp(page);
await context.close();

// 8. Embedded at 400 px, and the full page at 400 px.
const embedUrl = shareUrl.replace(`${origin}/`, `${origin}/?embed`);
({ context, page } = await open(embedUrl, { width: 400, height: 900 }));
out.embedHasHeader = (await page.locator('.top').count()) > 0;
out.embedManifests = await text(page, '#manifests');
await page.screenshot({ path: join(shots, '06-embed-400.png'), fullPage: true });
await page.screenshot({ path: join(shots, '06-embed-400-top.png') });
out.embedOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
out.embedH1 = await page.locator('h1').count();
await axe(page, 'embed 400');
await collectCsp(page);
await context.close();
({ context, page } = await open(shareUrl, { width: 400, height: 900 }));
await page.screenshot({ path: join(shots, '07-full-400.png'), fullPage: true });
await page.screenshot({ path: join(shots, '07-full-400-top.png') });
out.narrowOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
await page.click('.to-outputs');
out.narrowJumpTop = await page.evaluate(() => document.querySelector('#outputs-title').getBoundingClientRect().top);
await page.screenshot({ path: join(shots, '07-full-400-jumped.png') });
await axe(page, 'full 400');
await collectCsp(page);
await context.close();

// Dark scheme, wide and narrow.
for (const width of [1280, 400]) {
  ({ context, page } = await open(shareUrl, { width, height: 900 }, 'dark'));
  out.darkBackground = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.screenshot({ path: join(shots, `08-dark-${width}.png`), fullPage: width === 400 ? false : true });
  await axe(page, `dark ${width}`);
  await collectCsp(page);
  await context.close();
}

// 10. Embedded in documentation: a host page on another origin, with a strict CSP of its
// own, loads embed.js; the iframe grows and shrinks with the page, nothing else is asked.
const hostServer = createServer((req, res) => {
  served.push(`host:${req.url}`);
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': `default-src 'none'; script-src ${origin}; frame-src ${origin}; style-src 'unsafe-inline'`,
  });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Docs</title></head><body><main><h1>Docs</h1><p>Before.</p>
<cicd-access spec="${new URL(shareUrl).hash.slice(1)}"></cicd-access><p id="after">After.</p>
<script src="${origin}/embed.js"></script></main></body></html>`);
});
// 127.0.0.2 is this machine too, but another origin than the page's 127.0.0.1.
await new Promise((ok) => hostServer.listen(0, '127.0.0.2', ok));
const hostOrigin = `http://127.0.0.2:${hostServer.address().port}`;
out.hostOrigin = hostOrigin;
({ context, page } = await open(`${hostOrigin}/`, { width: 900, height: 800 }, 'light', 'cicd-access iframe'));
const frameHeight = () => page.evaluate(() => document.querySelector('cicd-access iframe')?.getBoundingClientRect().height ?? -1);
await page.waitForFunction(() => {
  const f = document.querySelector('cicd-access iframe');
  return f && f.getBoundingClientRect().height !== 640;
}, null, { timeout: 20000 });
const frame = page.frameLocator('cicd-access iframe');
await frame.locator('#manifests').waitFor();
await page.waitForTimeout(300);
out.embedHeights = { loaded: await frameHeight() };
out.embedInnerHeight = await frame.locator('body').evaluate((b) => Math.ceil(b.getBoundingClientRect().height));
await frame.locator('#catalog-browse').click();
await page.waitForFunction((h) => document.querySelector('cicd-access iframe').getBoundingClientRect().height > h, out.embedHeights.loaded);
out.embedHeights.grown = await frameHeight();
await frame.locator('#catalog-search').fill('zzzz-nothing');
await page.waitForFunction((h) => document.querySelector('cicd-access iframe').getBoundingClientRect().height < h, out.embedHeights.grown);
out.embedHeights.shrunk = await frameHeight();
await page.screenshot({ path: join(shots, '09-embedded-in-docs.png'), fullPage: true });
out.hostCsp = await page.evaluate(() => window.__csp);
await context.close();
hostServer.close();

// 9. A panic in the release wasm is a trap (panic=immediate-abort): the loader must show
// the crash banner rather than leave a dead page. The trap is raised as the browser would.
({ context, page } = await open(`${origin}/`));
out.bannerBefore = await page.locator('.crash').count();
await page.evaluate(() => setTimeout(() => { throw new WebAssembly.RuntimeError('unreachable'); }));
await page.waitForSelector('.crash[role="alert"]');
out.crashBanner = await text(page, '.crash');
await context.close();

await browser.close();
server.close();
// The trap raised on purpose in step 9 is the only page error allowed.
out.pageErrors = out.pageErrors.filter((e) => !e.includes('RuntimeError: unreachable'));
out.served = served;
writeFileSync(outputPath, JSON.stringify(out, null, 2));
