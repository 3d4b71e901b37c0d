// An accessible modal dialog: labelled, traps Tab, closes on Escape and backdrop click,
// and gives focus back to whatever opened it.

import type { ComponentChildren } from "preact";
import { useLayoutEffect, useRef } from "preact/hooks";
import { CloseIcon } from "./Icons";

interface ModalProps {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  footer?: ComponentChildren;
  size?: "sm" | "md" | "lg";
  /** Element (selector inside the dialog) to focus first. */
  initialFocus?: string;
  class?: string;
  headerExtra?: ComponentChildren;
}

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [contenteditable="true"], [tabindex]:not([tabindex="-1"])';

export function Modal({ title, onClose, children, footer, size = "md", initialFocus, class: cls, headerExtra }: ModalProps) {
  const ref = useRef<HTMLDivElement>(null);
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;
  const titleId = useRef(`dlg-${Math.random().toString(36).slice(2, 8)}`).current;

  // A layout effect, not an effect: Preact runs effects after the next paint, so a user (or
  // a test) pressing Escape as soon as the dialog shows would find no listener yet.
  useLayoutEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    const root = ref.current;
    // The named element, else the first control of the body (not the header's Close).
    const first =
      (initialFocus && root?.querySelector<HTMLElement>(initialFocus)) ||
      root?.querySelector<HTMLElement>(`.modal-body :is(${FOCUSABLE})`) ||
      root?.querySelector<HTMLElement>(FOCUSABLE);
    first?.focus();
    // Escape closes the topmost dialog even when focus has fallen back to the page.
    const onDocKey = (e: KeyboardEvent) => {
      if (e.key !== "Escape" || e.defaultPrevented) return;
      const all = document.querySelectorAll(".modal");
      if (all[all.length - 1] !== ref.current) return;
      e.preventDefault();
      onCloseRef.current();
    };
    document.addEventListener("keydown", onDocKey);
    return () => {
      document.removeEventListener("keydown", onDocKey);
      if (opener && document.contains(opener)) opener.focus();
    };
  }, []);

  function onKeyDown(e: KeyboardEvent) {
    if (e.key !== "Tab" || !ref.current) return;
    const items = Array.from(ref.current.querySelectorAll<HTMLElement>(FOCUSABLE)).filter((el) => el.offsetParent !== null);
    if (items.length === 0) return;
    const first = items[0];
    const last = items[items.length - 1];
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  }

  return (
    <div class="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        ref={ref}
        class={`modal modal-${size}${cls ? ` ${cls}` : ""}`}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        onKeyDown={onKeyDown}
      >
        <header class="modal-header">
          <h2 id={titleId}>{title}</h2>
          {headerExtra}
          <button type="button" class="icon-btn" aria-label="Close" onClick={onClose}>
            <CloseIcon size={18} />
          </button>
        </header>
        <div class="modal-body">{children}</div>
        {footer ? <footer class="modal-footer">{footer}</footer> : null}
      </div>
    </div>
  );
}
