// Tiny DOM helpers shared by the launcher and the window. Text is always set with text
// nodes (textContent), never as HTML: message bodies come from visitors and agents.

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) node.append(typeof child === "string" ? document.createTextNode(child) : child);
  return node;
}

/** An SVG icon from one path (created with createElementNS: no markup is parsed). */
export function icon(d: string): SVGSVGElement {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", d);
  svg.append(path);
  return svg;
}

/** Adds CSS to a shadow root as a constructable stylesheet (adoptedStyleSheets), which a
 * host page's Content-Security-Policy does not govern; a <style> in the shadow root only
 * where that is unsupported (then the host needs style-src 'unsafe-inline'). */
export function adopt(root: ShadowRoot, css: string): void {
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
  } catch {
    root.append(el("style", {}, css));
  }
}

/** The widget's colour if it is a plain hex colour, else Parlour's default. */
export function safeColor(color: string | undefined): string {
  return color && /^#[0-9a-f]{3}([0-9a-f]{3})?$/i.test(color) ? color : "#3b5bdb";
}

/** Black or white text, whichever reads better on `color`. */
export function textOn(color: string): string {
  let hex = color.slice(1);
  if (hex.length === 3) hex = [...hex].map((c) => c + c).join("");
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return 0.299 * r + 0.587 * g + 0.114 * b > 160 ? "#111" : "#fff";
}

export const ICON_CHAT = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z";
export const ICON_CLOSE = "M6 6l12 12M18 6L6 18";
