import { Parser } from 'htmlparser2';

/**
 * Tracking for one message: every http(s) link becomes a signed click URL, an open pixel goes at
 * the end of the body, and a visible unsubscribe link is added unless the template shows one.
 *
 * The HTML is tokenised with htmlparser2 (a real HTML tokenizer: quotes, entities, comments,
 * <script>/<style> raw text, odd attribute spacing all handled) and only the opening <a> tags
 * are rewritten in place; every other byte of the template's HTML is kept as it was.
 */
export interface LinkSigner {
  clickUrl(url: string, linkIndex: number): string;
  openPixelUrl: string;
  unsubscribeUrl: string;
}

const TRACKABLE = /^https?:\/\//i;

function escapeAttr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export interface ComposedHtml {
  html: string;
  /** Links rewritten, in order (the originals), for logs and tests. */
  links: string[];
}

export function addTracking(html: string, signer: LinkSigner, opts: { unsubscribeLabel?: string } = {}): ComposedHtml {
  const edits: Array<{ start: number; end: number; text: string }> = [];
  const links: string[] = [];
  let hasUnsubscribe = false;
  let bodyClose = -1;
  let htmlClose = -1;
  const parser = new Parser(
    {
      onopentag(name, attribs) {
        if (name !== 'a' || attribs.href === undefined) return;
        const href = attribs.href.trim();
        if (href === signer.unsubscribeUrl) {
          hasUnsubscribe = true;
          return;
        }
        if (!TRACKABLE.test(href)) return; // mailto:, tel:, #anchors, relative links stay as they are
        const tracked = signer.clickUrl(href, links.length);
        links.push(href);
        const attrs = Object.entries(attribs)
          .map(([k, v]) => (k === 'href' ? `href="${escapeAttr(tracked)}"` : v === '' ? k : `${k}="${escapeAttr(v)}"`))
          .join(' ');
        edits.push({ start: parser.startIndex, end: parser.endIndex + 1, text: `<a ${attrs}>` });
      },
      onclosetag(name) {
        if (name === 'body') bodyClose = parser.startIndex;
        if (name === 'html') htmlClose = parser.startIndex;
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();

  let out = '';
  let pos = 0;
  for (const e of edits) {
    out += html.slice(pos, e.start) + e.text;
    pos = e.end;
  }
  out += html.slice(pos);

  const footer =
    (hasUnsubscribe
      ? ''
      : `<p style="font-size:12px;color:#666666;text-align:center;margin:24px 0 0 0"><a href="${escapeAttr(signer.unsubscribeUrl)}" style="color:#666666">${escapeText(opts.unsubscribeLabel ?? 'Unsubscribe')}</a></p>`) +
    `<img src="${escapeAttr(signer.openPixelUrl)}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0" />`;
  // Offsets of </body> and </html> were found before the link edits; shift them by what the edits changed.
  const anchor = bodyClose >= 0 ? bodyClose : htmlClose;
  if (anchor >= 0 && html.slice(anchor, anchor + 2) === '</') {
    let shift = 0;
    for (const e of edits) if (e.start < anchor) shift += e.text.length - (e.end - e.start);
    const at = anchor + shift;
    out = out.slice(0, at) + footer + out.slice(at);
  } else {
    out += footer;
  }
  return { html: out, links };
}

/** The text part gets the unsubscribe URL at the end (plain text has no pixel and no rewriting). */
export function addTextFooter(text: string, unsubscribeUrl: string, label = 'Unsubscribe'): string {
  if (text.includes(unsubscribeUrl)) return text;
  return `${text.trimEnd()}\n\n${label}: ${unsubscribeUrl}\n`;
}
