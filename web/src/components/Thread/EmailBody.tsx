// Email HTML, already sanitised by the server (nh3), shown in a sandboxed iframe that can
// run no script and load nothing from elsewhere: its own CSP (logic.ts emailCsp) allows
// inline styles and images from this server and data:, so a tracking pixel or an
// onerror= handler does nothing until the agent allows remote images for the message.

import { useEffect, useRef, useState } from "preact/hooks";
import { emailDocument } from "./logic";

export function EmailBody({ html, title, allowRemote = false }: { html: string; title: string; allowRemote?: boolean }) {
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
  }, [html, allowRemote]);

  return (
    <iframe
      ref={ref}
      class="email-frame"
      title={title}
      // allow-same-origin (without allow-scripts) only lets us measure the height.
      sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"
      referrerpolicy="no-referrer"
      srcdoc={emailDocument(html, { origin: window.location.origin, allowRemote })}
      style={{ height: `${height}px` }}
    />
  );
}
