// cicd-access in your documentation: load this script, then write
//   <cicd-access spec="spec=…"></cicd-access>   or   <div data-cicd-access="spec=…"></div>
// (the spec is what "Copy embed code" gives; empty opens the defaults). Each becomes the
// compact page (?embed) in a sandboxed iframe that takes the height of its content: the
// page posts it, and only a message from that iframe, from the page's origin, is believed.
// Elements added later (MkDocs Material's instant navigation, a single-page docs site) are
// found too. The page itself keeps its own Content-Security-Policy (connect-src 'none').
(() => {
  const here = document.currentScript ? document.currentScript.src : location.href;
  const base = new URL('./', here);
  const frames = new Map();
  const mount = (host) => {
    if (frames.has(host)) return;
    const spec = (host.getAttribute('spec') ?? host.getAttribute('data-cicd-access') ?? '').replace(/^#/, '');
    const frame = document.createElement('iframe');
    frame.src = `${base.href}?embed${spec ? `#${spec.startsWith('spec=') ? spec : `spec=${spec}`}` : ''}`;
    frame.title = host.getAttribute('title') || 'cicd-access: a least-privilege kubeconfig for one CI/CD pipeline';
    // Scripts for the page's WebAssembly; its own origin for the clipboard; downloads for
    // the files it offers; popups for "Open in the full page".
    frame.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-downloads allow-popups allow-popups-to-escape-sandbox');
    frame.setAttribute('allow', 'clipboard-write');
    frame.setAttribute('loading', 'lazy');
    frame.style.width = '100%';
    frame.style.height = '640px';
    frame.style.border = '0';
    frame.style.display = 'block';
    host.replaceChildren(frame);
    frames.set(host, frame);
  };
  addEventListener('message', (event) => {
    if (event.origin !== base.origin || !event.data || event.data.type !== 'cicd-access:height') return;
    for (const frame of frames.values()) {
      if (frame.contentWindow !== event.source) continue;
      const height = Math.ceil(Number(event.data.height));
      if (height > 0 && height < 1e6) frame.style.height = `${height}px`;
    }
  });
  const scan = () => {
    for (const [host] of frames) if (!host.isConnected) frames.delete(host);
    document.querySelectorAll('cicd-access, [data-cicd-access]').forEach(mount);
  };
  scan();
  new MutationObserver(scan).observe(document.documentElement, { childList: true, subtree: true });
})();
