// The email composer (loaded on demand): To, Cc and Bcc, From, Subject, a small rich-text
// editor that starts with the mailbox's signature, and attachments. The HTML it produces
// is sanitised again by the server before it is stored.

import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, fieldErrorsOf, type AttachmentOut, type ChannelOption, type MailboxOut } from "../../api";
import { fileSize } from "../../lib/format";
import { errorText } from "../../lib/errors";
import type { Draft } from "../../stores/sending";
import { Modal } from "../common/Modal";
import { BoldIcon, ItalicIcon, LinkIcon, ListIcon, PaperclipIcon, SendIcon, TrashIcon, UnderlineIcon } from "../common/Icons";
import { endpointLabel } from "../Thread/ContactBar";
import { addressError, emailDrafts as drafts, onlySignature, parseAddresses, recipientErrors, signatureHtml } from "./logic";

export interface EmailComposerProps {
  /** Drafts survive closing the composer, per thread. */
  draftKey: string;
  contactName: string;
  option: ChannelOption | undefined;
  senderId: number | null;
  recipientId: number | null;
  /** "Re: " and the thread's last subject, for a new draft. */
  replySubject?: string;
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


// The mailboxes (every user may read them) give the signatures; asked once per page.
let mailboxList: Promise<MailboxOut[]> | null = null;
function loadMailboxes(): Promise<MailboxOut[]> {
  mailboxList ??= api.mailboxes.list().catch(() => {
    mailboxList = null;
    return [];
  });
  return mailboxList;
}

/** Plain text for the message body (previews, search, the SMS-less fallback). */
export function htmlToText(el: HTMLElement): string {
  return el.innerText.replace(/\u00a0/g, " ").replace(/\n{3,}/g, "\n\n").trim();
}

export function EmailComposer(p: EmailComposerProps) {
  const saved = drafts.get(p.draftKey);
  const [subject, setSubject] = useState(saved?.subject ?? p.replySubject ?? "");
  const [cc, setCc] = useState(saved?.cc ?? "");
  const [bcc, setBcc] = useState(saved?.bcc ?? "");
  const [showCc, setShowCc] = useState(!!saved?.cc);
  const [showBcc, setShowBcc] = useState(!!saved?.bcc);
  const [fieldErrors, setFieldErrors] = useState<{ cc?: string; bcc?: string }>({});
  const [mailboxes, setMailboxes] = useState<MailboxOut[] | null>(null);
  /** The signature the editor holds now, while the agent has written nothing else. */
  const signature = useRef("");
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
  const ccRef = useRef({ cc, bcc });
  ccRef.current = { cc, bcc };

  function written(el: HTMLElement | null): boolean {
    return !!el && !onlySignature(htmlToText(el), signature.current);
  }

  function keepDraft() {
    const el = editor.current;
    const { cc, bcc } = ccRef.current;
    const subjectChanged = subjectRef.current.trim() && subjectRef.current !== (p.replySubject ?? "");
    if (written(el) || subjectChanged || cc.trim() || bcc.trim()) {
      drafts.set(p.draftKey, { subject: subjectRef.current, html: el?.innerHTML ?? "", cc, bcc });
    } else drafts.delete(p.draftKey);
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

  useEffect(() => {
    let live = true;
    void loadMailboxes().then((list) => live && setMailboxes(list));
    return () => {
      live = false;
    };
  }, []);

  // The mailbox's signature starts a new email, and follows a change of mailbox while
  // nothing else was written; a draft the agent wrote is never touched.
  const mailboxId = from ?? p.option?.default_sender_id ?? null;
  useEffect(() => {
    const el = editor.current;
    if (!el || !mailboxes) return;
    const next = mailboxes.find((m) => m.id === mailboxId)?.signature ?? "";
    const text = htmlToText(el);
    // (A restored draft may hold this signature alone.)
    if (!onlySignature(text, signature.current) && !onlySignature(text, next)) return;
    el.innerHTML = signatureHtml(next);
    signature.current = next;
    setEmpty(true);
  }, [mailboxes, mailboxId]);

  function exec(command: string, value?: string) {
    editor.current?.focus();
    document.execCommand(command, false, value);
    setEmpty(!written(editor.current));
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
    if (!written(el)) {
      setError("Write a message first.");
      el.focus();
      return;
    }
    const problems = { cc: addressError(cc) ?? undefined, bcc: addressError(bcc) ?? undefined };
    setFieldErrors(problems);
    if (problems.cc || problems.bcc) {
      setError(null);
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
      const ccList = parseAddresses(cc).addresses;
      const bccList = parseAddresses(bcc).addresses;
      if (ccList.length) draft.cc = ccList;
      if (bccList.length) draft.bcc = bccList;
      await p.onSend(draft);
      el.innerHTML = "";
      signature.current = "";
      subjectRef.current = "";
      ccRef.current = { cc: "", bcc: "" };
      drafts.delete(p.draftKey);
      p.onClose();
    } catch (err) {
      const pinned = err instanceof ApiError ? recipientErrors(fieldErrorsOf(err)) : {};
      if (pinned.cc) setShowCc(true);
      if (pinned.bcc) setShowBcc(true);
      setFieldErrors(pinned);
      setError(pinned.cc || pinned.bcc ? null : errorText(err));
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
      // A reply's subject is already there: the agent starts on the body.
      initialFocus={recipients.length ? (subject ? ".rte-editor" : "#email-subject") : undefined}
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
              signature.current = "";
              subjectRef.current = "";
              ccRef.current = { cc: "", bcc: "" };
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
          {!showCc || !showBcc ? (
            <span class="cc-links">
              {!showCc ? (
                <button type="button" class="link-btn muted" onClick={() => setShowCc(true)} aria-label="Add Cc recipients">
                  Cc
                </button>
              ) : null}
              {!showBcc ? (
                <button type="button" class="link-btn muted" onClick={() => setShowBcc(true)} aria-label="Add Bcc recipients">
                  Bcc
                </button>
              ) : null}
            </span>
          ) : null}
        </div>
        {showCc ? (
          <AddressField id="email-cc" label="Cc" value={cc} error={fieldErrors.cc} onInput={(v) => { setCc(v); setFieldErrors({ ...fieldErrors, cc: undefined }); }} />
        ) : null}
        {showBcc ? (
          <AddressField id="email-bcc" label="Bcc" value={bcc} error={fieldErrors.bcc} onInput={(v) => { setBcc(v); setFieldErrors({ ...fieldErrors, bcc: undefined }); }} />
        ) : null}
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
            onInput={() => setEmpty(!written(editor.current))}
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

function AddressField({ id, label, value, error, onInput }: { id: string; label: string; value: string; error?: string; onInput: (v: string) => void }) {
  return (
    <div class={`email-field${error ? " has-error" : ""}`}>
      <label for={id}>{label}</label>
      <div class="email-field-input">
        <input
          id={id}
          value={value}
          autoComplete="off"
          spellcheck={false}
          placeholder="Addresses, separated by commas or spaces"
          aria-invalid={!!error}
          aria-describedby={error ? `${id}-error` : undefined}
          onInput={(e) => onInput((e.target as HTMLInputElement).value)}
        />
        {error ? (
          <span class="field-error" id={`${id}-error`}>
            {error}
          </span>
        ) : null}
      </div>
    </div>
  );
}
