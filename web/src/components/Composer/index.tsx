// The composer: channel selector (unusable channels disabled, with the reason), the
// company number for SMS, the message box with a segment counter, and the email composer
// that pops up (loaded on demand) for email.

import type { ComponentType } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, type AttachmentOut, type Channel, type ChannelOption, type ChannelOptions } from "../../api";
import { CHANNEL_NAMES, formatPhone } from "../../lib/format";
import { errorText } from "../../lib/errors";
import type { Draft } from "../../stores/sending";
import { useInbox } from "../../stores/context";
import { ChannelIcon, CloseIcon, EmailIcon, PaperclipIcon, SendIcon } from "../common/Icons";
import { countSms, emailDrafts, isSendShortcut, optionFor } from "./logic";
import type { EmailComposerProps } from "./EmailComposer";

const drafts = new Map<string, string>();

interface Props {
  conversationId: number;
  contactName: string;
  options: ChannelOptions | null;
  channel: Channel;
  onChannel: (c: Channel) => void;
  senderId: number | null;
  onSender: (id: number) => void;
  recipientId: number | null;
  /** "Re: " and the thread's last email subject. */
  replySubject?: string;
}

let emailComposerModule: Promise<ComponentType<EmailComposerProps>> | null = null;
function loadEmailComposer() {
  emailComposerModule ??= import("./EmailComposer").then((m) => m.EmailComposer);
  return emailComposerModule;
}

export function Composer(p: Props) {
  const inbox = useInbox();
  // One draft per thread: switching channel keeps what was typed.
  const draftKey = String(p.conversationId);
  const [text, setText] = useState(drafts.get(draftKey) ?? "");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [EmailComposer, setEmailComposer] = useState<ComponentType<EmailComposerProps> | null>(null);
  const [emailOpen, setEmailOpen] = useState(false);
  const [files, setFiles] = useState<AttachmentOut[]>([]);
  const [uploading, setUploading] = useState(false);
  const fileRef = useRef<HTMLInputElement>(null);
  const ref = useRef<HTMLTextAreaElement>(null);
  const emailBtn = useRef<HTMLButtonElement>(null);
  const option = optionFor(p.options, p.channel);
  const available = option ? option.available : true;

  useEffect(() => {
    setText(drafts.get(draftKey) ?? "");
    setError(null);
  }, [draftKey]);

  // Attachments belong to the channel they were added for.
  useEffect(() => setFiles([]), [draftKey, p.channel]);

  async function attach(list: FileList | null) {
    if (!list?.length) return;
    setUploading(true);
    setError(null);
    try {
      for (const f of Array.from(list)) {
        const a = await api.attachments.upload(f);
        setFiles((x) => x.concat(a));
      }
    } catch (err) {
      setError(errorText(err));
    } finally {
      setUploading(false);
      if (fileRef.current) fileRef.current.value = "";
    }
  }

  // "New conversation" asks for focus.
  useEffect(() => {
    if (inbox.thread.composerFocus.value === 0) return;
    requestAnimationFrame(() => (ref.current ?? emailBtn.current)?.focus());
  }, [inbox.thread.composerFocus.value, p.conversationId]);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(220, Math.max(44, el.scrollHeight))}px`;
  }, [text, p.channel]);

  function updateText(v: string) {
    setText(v);
    // The visitor sees "… is typing" (web chat only; the server throttles nothing).
    if (v && p.channel === "webchat") inbox.thread.agentTyping.typed(p.conversationId);
    if (v) drafts.set(draftKey, v);
    else drafts.delete(draftKey);
  }

  function openEmail() {
    setEmailOpen(true);
    if (!EmailComposer) void loadEmailComposer().then((c) => setEmailComposer(() => c));
  }

  function chooseChannel(c: Channel) {
    p.onChannel(c);
    if (c === "email") openEmail();
  }

  function draftFor(body: string): Draft {
    const d: Draft = { channel: p.channel, body };
    if (p.channel === "sms") {
      if (p.senderId != null) d.phone_number_id = p.senderId;
      if (p.recipientId != null) d.contact_phone_id = p.recipientId;
    } else if (p.channel === "email") {
      if (p.senderId != null) d.mailbox_id = p.senderId;
      if (p.recipientId != null) d.contact_email_id = p.recipientId;
    } else if (p.channel === "webchat" && p.senderId != null) {
      d.widget_id = p.senderId;
    }
    return d;
  }

  async function submit(e?: Event) {
    e?.preventDefault();
    const body = text.trim();
    if ((!body && files.length === 0) || busy || uploading || !available) return;
    // Where the agent was when sending (the box, or the Send button, which the wait
    // disables): focus returns to the box only if it has not moved on since.
    const from = document.activeElement;
    setBusy(true);
    setError(null);
    updateText("");
    inbox.thread.agentTyping.reset(p.conversationId);
    const draft = draftFor(body);
    if (files.length) draft.attachment_ids = files.map((f) => f.id);
    setFiles([]);
    try {
      await inbox.sending.send(p.conversationId, draft);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
      const now = document.activeElement;
      if (now === from || now === null || now === document.body) ref.current?.focus();
    }
  }

  const sms = p.channel === "sms" ? countSms(text) : null;
  const unavailable = (p.options?.channels ?? []).filter((c) => !c.available);

  return (
    <>
    <form class="composer" aria-label="Reply" onSubmit={submit}>
      <div class="composer-top">
        <div class="channel-tabs" role="radiogroup" aria-label="Channel">
          {(["sms", "webchat", "email"] as Channel[]).map((c) => {
            const opt = optionFor(p.options, c);
            const disabled = opt ? !opt.available : false;
            return (
              <label
                key={c}
                class={`channel-tab${p.channel === c ? " is-active" : ""}${disabled ? " is-disabled" : ""}`}
                title={disabled ? `${CHANNEL_NAMES[c]}: ${opt?.reason ?? "unavailable"}` : CHANNEL_NAMES[c]}
              >
                <input
                  type="radio"
                  name={`channel-${p.conversationId}`}
                  value={c}
                  checked={p.channel === c}
                  disabled={disabled}
                  aria-describedby={disabled ? `reason-${c}` : undefined}
                  onChange={() => chooseChannel(c)}
                  onClick={() => c === "email" && p.channel === "email" && openEmail()}
                />
                <ChannelIcon channel={c} size={14} />
                <span>{CHANNEL_NAMES[c]}</span>
              </label>
            );
          })}
        </div>
        {option && option.senders.length > 0 && p.channel !== "webchat" ? (
          <SenderSelect option={option} channel={p.channel} value={p.senderId} onChange={p.onSender} />
        ) : null}
      </div>
      {unavailable.length ? (
        <ul class="channel-reasons">
          {unavailable.map((c) => (
            <li key={c.channel} id={`reason-${c.channel}`}>
              <strong>{CHANNEL_NAMES[c.channel]}</strong> unavailable: {c.reason ?? "not set up"}
            </li>
          ))}
        </ul>
      ) : null}
      {p.channel === "email" ? (
        <div class="email-start">
          <button type="button" ref={emailBtn} class="btn btn-secondary email-start-btn" onClick={openEmail} disabled={!available}>
            <EmailIcon size={16} />
            <span>
              {emailDrafts.has(String(p.conversationId)) ? "Continue your email to " : "Write an email to "}
              {p.contactName}
            </span>
          </button>
          <span class="hint">Opens the email composer with subject, formatting and attachments.</span>
        </div>
      ) : (
        <div class={`composer-box${!available ? " is-disabled" : ""}`}>
          <textarea
            ref={ref}
            aria-label="Message"
            rows={1}
            placeholder={
              available
                ? `Reply by ${CHANNEL_NAMES[p.channel]} to ${p.contactName}…`
                : `${CHANNEL_NAMES[p.channel]} can't be used: ${option?.reason ?? "unavailable"}`
            }
            value={text}
            disabled={!available}
            onInput={(e) => updateText((e.target as HTMLTextAreaElement).value)}
            onKeyDown={(e) => {
              if (isSendShortcut(e)) {
                e.preventDefault();
                void submit();
              }
            }}
          />
          {files.length ? (
            <ul class="composer-files" aria-label="Attachments">
              {files.map((f) => (
                <li key={f.id} class="tag">
                  <PaperclipIcon size={12} /> {f.filename}
                  <button type="button" aria-label={`Remove ${f.filename}`} onClick={() => setFiles(files.filter((x) => x.id !== f.id))}>
                    <CloseIcon size={11} />
                  </button>
                </li>
              ))}
            </ul>
          ) : null}
          <div class="composer-bottom">
            {p.channel === "webchat" ? (
              <>
                <button type="button" class="icon-btn icon-btn-sm" aria-label="Attach files" title="Attach files" disabled={!available || uploading} onClick={() => fileRef.current?.click()}>
                  <PaperclipIcon size={15} />
                </button>
                <input ref={fileRef} type="file" multiple hidden aria-label="Files to attach" onChange={(e) => void attach((e.target as HTMLInputElement).files)} />
              </>
            ) : null}
            <span class="composer-hint">
              {sms && text ? (
                <span class={`counter${sms.segments > 1 ? " is-multi" : ""}`} aria-live="polite">
                  {sms.units} / {sms.segments > 1 ? sms.segments * sms.perSegment : sms.perSegment} · {sms.segments} segment{sms.segments === 1 ? "" : "s"}
                  {sms.encoding === "UCS-2" ? " · Unicode" : ""}
                </span>
              ) : (
                <span class="muted">Enter to send · Shift+Enter for a new line</span>
              )}
            </span>
            <button type="submit" class="btn btn-primary btn-send" disabled={(!text.trim() && files.length === 0) || !available || busy || uploading}>
              <SendIcon size={15} />
              <span>Send</span>
            </button>
          </div>
        </div>
      )}
      {error ? (
        <p class="form-error" role="alert">
          {error}
        </p>
      ) : null}
    </form>
      {emailOpen && p.channel === "email" ? (
        EmailComposer ? (
          <EmailComposer
            draftKey={String(p.conversationId)}
            contactName={p.contactName}
            option={option}
            senderId={p.senderId}
            recipientId={p.recipientId}
            replySubject={p.replySubject}
            onSend={async (draft) => {
              await inbox.sending.send(p.conversationId, { ...draftFor(draft.body), ...draft });
            }}
            onClose={() => setEmailOpen(false)}
          />
        ) : (
          <div class="modal-backdrop" aria-busy="true">
            <div class="modal modal-lg loading-modal">Loading the email composer…</div>
          </div>
        )
      ) : null}
    </>
  );
}

function SenderSelect({ option, channel, value, onChange }: { option: ChannelOption; channel: Channel; value: number | null; onChange: (id: number) => void }) {
  const label = channel === "sms" ? "Send from company number" : "Send from mailbox";
  return (
    <div class="select-wrap select-sm sender-select">
      <span class="sender-prefix" aria-hidden="true">From</span>
      <select aria-label={label} value={value ?? ""} onChange={(e) => onChange(Number((e.target as HTMLSelectElement).value))}>
        {option.senders.map((s) => {
          const address = channel === "sms" ? formatPhone(s.address) : s.address;
          return (
            <option key={s.id} value={s.id} disabled={!s.usable}>
              {s.label ? `${s.label} · ${address}` : address}
              {s.usable ? "" : ` — ${s.reason ?? "unavailable"}`}
            </option>
          );
        })}
      </select>
    </div>
  );
}
