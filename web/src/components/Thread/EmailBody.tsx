// Email HTML, already sanitised by the server (nh3), shown in a sandboxed iframe that can
// run no script and load nothing remote: its own CSP allows only inline styles and data:
// images, so a tracking pixel or an onerror= handler does nothing.

import { useEffect, useRef, useState } from "preact/hooks";

const CSP = "default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'; font-src data:";

export function emailDocument(html: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${CSP}"><base target="_blank"><style>html,body{margin:0;padding:0;background:transparent}body{font:14px/1.55 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue","Noto Sans","DejaVu Sans",Arial,sans-serif;color:#1f2430;overflow-wrap:anywhere}img{max-width:100%;height:auto}a{color:#4338ca}blockquote{margin:0 0 0 .5em;padding-left:.75em;border-left:3px solid #e4e7ec;color:#5b6474}table{max-width:100%}p{margin:0 0 .75em}body>:last-child,p:last-child{margin-bottom:0}@media (prefers-color-scheme:dark){html{background:#fbfbfc}body{padding:10px 12px}}</style></head><body>${html}</body></html>`;
}

export function EmailBody({ html, title }: { html: string; title: string }) {
  const ref = useRef<HTMLIFrameElement>(null);
  const [height, setHeight] = useState(60);

  useEffect(() => {
    const frame = ref.current;
    if (!frame) return;
    let ro: ResizeObserver | null = null;
    const measure = () => {
      const doc = frame.contentDocument;
      if (!doc?.body) return;
      setHeight(Math.min(2000, Math.max(24, doc.documentElement.scrollHeight)));
    };
    const onLoad = () => {
      measure();
      const body = frame.contentDocument?.body;
      if (body && typeof ResizeObserver !== "undefined") {
        ro = new ResizeObserver(measure);
        ro.observe(body);
      }
    };
    frame.addEventListener("load", onLoad);
    return () => {
      frame.removeEventListener("load", onLoad);
      ro?.disconnect();
    };
  }, [html]);

  return (
    <iframe
      ref={ref}
      class="email-frame"
      title={title}
      // allow-same-origin (without allow-scripts) only lets us measure the height.
      sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"
      referrerpolicy="no-referrer"
      srcdoc={emailDocument(html)}
      style={{ height: `${height}px` }}
    />
  );
}
