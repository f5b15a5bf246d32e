import { createHash } from 'node:crypto';

export interface SelfContainedPage {
  html: string;
  /** Allows exactly the page's own inline style and script, and fetches from its own origin. */
  contentSecurityPolicy: string;
}

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * An HTML page with its CSS and script inline and nothing loaded from elsewhere (readers may
 * be offline; nothing leaks to third parties), served with a Content-Security-Policy that allows
 * exactly that style and that script by hash: no 'unsafe-inline', no other origin.
 */
export function selfContainedPage(opts: { title: string; style: string; script: string; body: string }): SelfContainedPage {
  const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escape(opts.title)}</title>
<style>${opts.style}</style>
</head>
<body>
${opts.body}
<script>${opts.script}</script>
</body>
</html>
`;
  const contentSecurityPolicy = [
    "default-src 'none'",
    `style-src ${sha256(opts.style)}`,
    `script-src ${sha256(opts.script)}`,
    "connect-src 'self'",
    "img-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, contentSecurityPolicy };
}
