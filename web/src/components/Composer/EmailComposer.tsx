// The email composer (loaded on demand): To, From, Subject, a small rich-text editor and
// attachments. The HTML it produces is sanitised again by the server before it is stored.

import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, type AttachmentOut, type ChannelOption } from "../../api";
import { fileSize } from "../../lib/format";
import { errorText } from "../../lib/errors";
import type { Draft } from "../../stores/sending";
import { Modal } from "../common/Modal";
import { BoldIcon, ItalicIcon, LinkIcon, ListIcon, PaperclipIcon, SendIcon, TrashIcon, UnderlineIcon } from "../common/Icons";
import { endpointLabel } from "../Thread/ContactBar";
import { emailDrafts as drafts } from "./logic";

export interface EmailComposerProps {
  /** Drafts survive closing the composer, per thread. */
  draftKey: string;
  contactName: string;
  option: ChannelOption | undefined;
  senderId: number | null;
  recipientId: number | null;
  onSend: (draft: Draft) => Promise<void>;
  onClose: () => void;
}

interface Upload {
  key: string;
  file: File;
  state: "uploading" | "done" | "error";
  attachment?: AttachmentOut;
  error?: string;
}


/** Plain text for the message body (previews, search, the SMS-less fallback). */
export function htmlToText(el: HTMLElement): string {
  return el.innerText.replace(/\u00a0/g, " ").replace(/\n{3,}/g, "\n\n").trim();
}

export function EmailComposer(p: EmailComposerProps) {
  const saved = drafts.get(p.draftKey);
  const [subject, setSubject] = useState(saved?.subject ?? "");
  const [to, setTo] = useState<number | null>(p.recipientId);
  const [from, setFrom] = useState<number | null>(p.senderId);
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [empty, setEmpty] = useState(!saved?.html);
  const editor = useRef<HTMLDivElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const subjectRef = useRef(subject);
  subjectRef.current = subject;

  function keepDraft() {
    const el = editor.current;
    const text = el ? htmlToText(el) : "";
    if (text || subjectRef.current.trim()) drafts.set(p.draftKey, { subject: subjectRef.current, html: el?.innerHTML ?? "" });
    else drafts.delete(p.draftKey);
  }

  /** Closing without sending keeps the draft for this thread. */
  function close() {
    keepDraft();
    p.onClose();
  }

  // Restore a draft into the editor; keep one if the thread changes under the composer.
  useEffect(() => {
    const el = editor.current;
    if (el && saved?.html) el.innerHTML = saved.html;
    return keepDraft;
  }, []);

  useEffect(() => setTo(p.recipientId), [p.recipientId]);
  useEffect(() => setFrom(p.senderId), [p.senderId]);

  function exec(command: string, value?: string) {
    editor.current?.focus();
    document.execCommand(command, false, value);
    setEmpty(!editor.current || htmlToText(editor.current) === "");
  }

  function addLink() {
    const url = window.prompt("Link address", "https://");
    if (url && /^(https?:|mailto:)/i.test(url)) exec("createLink", url);
  }

  async function addFiles(files: FileList | null) {
    if (!files) return;
    for (const file of Array.from(files)) {
      const key = `${file.name}-${file.size}-${Math.random().toString(36).slice(2, 6)}`;
      setUploads((u) => u.concat({ key, file, state: "uploading" }));
      try {
        const attachment = await api.attachments.upload(file);
        setUploads((u) => u.map((x) => (x.key === key ? { ...x, state: "done", attachment } : x)));
      } catch (err) {
        const msg =
          err instanceof ApiError && (err.status === 404 || err.status === 405)
            ? "This server does not accept attachments yet."
            : errorText(err);
        setUploads((u) => u.map((x) => (x.key === key ? { ...x, state: "error", error: msg } : x)));
      }
    }
    if (fileInput.current) fileInput.current.value = "";
  }

  async function send() {
    const el = editor.current;
    if (!el || busy) return;
    const body = htmlToText(el);
    if (!body) {
      setError("Write a message first.");
      el.focus();
      return;
    }
    if (uploads.some((u) => u.state === "uploading")) {
      setError("Wait for the attachments to finish uploading.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const ids = uploads.filter((u) => u.state === "done" && u.attachment).map((u) => u.attachment!.id);
      const draft: Draft = {
        channel: "email",
        body,
        subject: subject.trim() || null,
        html: el.innerHTML,
      };
      if (to != null) draft.contact_email_id = to;
      if (from != null) draft.mailbox_id = from;
      if (ids.length) draft.attachment_ids = ids;
      await p.onSend(draft);
      el.innerHTML = "";
      subjectRef.current = "";
      drafts.delete(p.draftKey);
      p.onClose();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  const recipients = p.option?.recipients ?? [];
  const senders = p.option?.senders ?? [];

  return (
    <Modal
      title={`New email to ${p.contactName}`}
      onClose={close}
      size="lg"
      class="email-composer"
      initialFocus={recipients.length ? "#email-subject" : undefined}
      footer={
        <>
          <button type="button" class="btn btn-ghost" onClick={() => fileInput.current?.click()}>
            <PaperclipIcon size={15} />
            <span>Attach files</span>
          </button>
          <span class="spacer" />
          <span class="hint">Ctrl+Enter to send</span>
          <button
            type="button"
            class="btn btn-ghost"
            onClick={() => {
              if (editor.current) editor.current.innerHTML = "";
              subjectRef.current = "";
              drafts.delete(p.draftKey);
              p.onClose();
            }}
          >
            Discard
          </button>
          <button type="button" class="btn btn-primary" disabled={busy || empty || p.option?.available === false} onClick={() => void send()}>
            <SendIcon size={15} />
            <span>{busy ? "Sending…" : "Send email"}</span>
          </button>
        </>
      }
    >
      <div
        class="email-form"
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            void send();
          }
        }}
      >
        <div class="email-field">
          <label for="email-to">To</label>
          {recipients.length ? (
            <select id="email-to" value={to ?? ""} onChange={(e) => setTo(Number((e.target as HTMLSelectElement).value))}>
              {recipients.map((r) => (
                <option key={r.id} value={r.id} disabled={!r.usable}>
                  {endpointLabel("email", r)}
                </option>
              ))}
            </select>
          ) : (
            <span class="muted">No email address on file — add one in the contact's communication options.</span>
          )}
        </div>
        {senders.length ? (
          <div class="email-field">
            <label for="email-from">From</label>
            <select id="email-from" value={from ?? ""} onChange={(e) => setFrom(Number((e.target as HTMLSelectElement).value))}>
              {senders.map((s) => (
                <option key={s.id} value={s.id} disabled={!s.usable}>
                  {s.label ? `${s.label} <${s.address}>` : s.address}
                </option>
              ))}
            </select>
          </div>
        ) : null}
        <div class="email-field">
          <label for="email-subject">Subject</label>
          <input id="email-subject" value={subject} onInput={(e) => setSubject((e.target as HTMLInputElement).value)} placeholder="What is it about?" />
        </div>
        <div class="rte" >
          <div class="rte-toolbar" role="toolbar" aria-label="Formatting">
            <button type="button" class="icon-btn icon-btn-sm" aria-label="Bold" onMouseDown={(e) => e.preventDefault()} onClick={() => exec("bold")}>
              <BoldIcon size={15} />
            </button>
            <button type="button" class="icon-btn icon-btn-sm" aria-label="Italic" onMouseDown={(e) => e.preventDefault()} onClick={() => exec("italic")}>
              <ItalicIcon size={15} />
            </button>
            <button type="button" class="icon-btn icon-btn-sm" aria-label="Underline" onMouseDown={(e) => e.preventDefault()} onClick={() => exec("underline")}>
              <UnderlineIcon size={15} />
            </button>
            <span class="rte-sep" />
            <button type="button" class="icon-btn icon-btn-sm" aria-label="Bulleted list" onMouseDown={(e) => e.preventDefault()} onClick={() => exec("insertUnorderedList")}>
              <ListIcon size={15} />
            </button>
            <button type="button" class="icon-btn icon-btn-sm" aria-label="Insert link" onMouseDown={(e) => e.preventDefault()} onClick={addLink}>
              <LinkIcon size={15} />
            </button>
          </div>
          <div
            ref={editor}
            class={`rte-editor${empty ? " is-empty" : ""}`}
            contentEditable
            role="textbox"
            aria-multiline="true"
            aria-label="Email body"
            data-placeholder={`Write to ${p.contactName}…`}
            onInput={() => setEmpty(!editor.current || htmlToText(editor.current) === "")}
            onPaste={(e) => {
              // Paste as plain text: foreign markup is rarely what the agent wants.
              const text = e.clipboardData?.getData("text/plain");
              if (text != null) {
                e.preventDefault();
                document.execCommand("insertText", false, text);
              }
            }}
          />
        </div>
        <input ref={fileInput} type="file" multiple hidden aria-label="Attachments" onChange={(e) => void addFiles((e.target as HTMLInputElement).files)} />
        {uploads.length ? (
          <ul class="upload-list" aria-label="Attachments">
            {uploads.map((u) => (
              <li key={u.key} class={`upload upload-${u.state}`}>
                <PaperclipIcon size={13} />
                <span class="attachment-name">{u.file.name}</span>
                <span class="attachment-size">{u.state === "uploading" ? "Uploading…" : u.state === "error" ? u.error : fileSize(u.file.size)}</span>
                <button type="button" class="icon-btn icon-btn-sm" aria-label={`Remove ${u.file.name}`} onClick={() => setUploads((x) => x.filter((y) => y.key !== u.key))}>
                  <TrashIcon size={13} />
                </button>
              </li>
            ))}
          </ul>
        ) : null}
        {p.option && !p.option.available ? <p class="form-error">Email can't be used: {p.option.reason}</p> : null}
        {error ? (
          <p class="form-error" role="alert">
            {error}
          </p>
        ) : null}
      </div>
    </Modal>
  );
}
