import { useState } from "preact/hooks";
import type { MessageOut } from "../../api/schemas";
import { CHANNEL_NAMES, clockTime, fileSize, fullTime, statusLabel } from "../../lib/format";
import { linkClick } from "../../lib/router";
import { Avatar } from "../common/Avatar";
import {
  AlertIcon,
  ChannelIcon,
  CheckCheckIcon,
  CheckIcon,
  ChevronDownIcon,
  ClockIcon,
  PaperclipIcon,
  RetryIcon,
} from "../common/Icons";
import { EmailBody } from "./EmailBody";
import { emailHtml, endpointText, failureText, hasQuoted, quotedTextShown, sideOf } from "./logic";

interface Props {
  message: MessageOut;
  first: boolean;
  onRetry: (m: MessageOut) => void;
  onDiscard: (m: MessageOut) => void;
}

export function Message({ message: m, first, onRetry, onDiscard }: Props) {
  const side = sideOf(m);
  const bot = m.sender.type === "bot";
  const kind = side === "left" ? "in" : bot ? "bot" : "agent";
  const failed = m.status === "failed";
  const senderLabel = bot ? `${m.sender.name} (automation)` : m.sender.name;
  const avatar = (
    <Avatar
      name={m.sender.name}
      initials={m.sender.initials}
      url={m.sender.avatar_url}
      size={30}
      bot={bot}
      title={bot ? `Sent by the workflow “${m.sender.name}”` : m.sender.name}
    />
  );
  return (
    <li
      class={`msg msg-${side} msg-${kind}${first ? " msg-first" : ""}${failed ? " msg-failed" : ""}${m.channel === "email" ? " msg-email" : ""}`}
      aria-label={`${side === "left" ? "From" : "Sent by"} ${senderLabel} by ${CHANNEL_NAMES[m.channel]}`}
      data-message-id={m.id}
      data-side={side}
    >
      <div class="msg-avatar">{first ? avatar : null}</div>
      <div class="msg-main">
        {first ? (
          <div class="msg-sender">
            <span class="msg-sender-name">{m.sender.name}</span>
            {bot ? <span class="pill pill-bot">Workflow</span> : null}
          </div>
        ) : null}
        {m.channel === "email" ? <EmailCard m={m} /> : <Bubble m={m} />}
        <div class="msg-meta">
          <ChannelIcon channel={m.channel} size={12} title={CHANNEL_NAMES[m.channel]} />
          <span class="msg-endpoint">{endpointText(m)}</span>
          <span class="dot" aria-hidden="true">·</span>
          <time dateTime={m.created_at} title={fullTime(m.created_at)}>
            {clockTime(m.created_at)}
          </time>
          {m.direction === "out" ? <Status m={m} /> : null}
          {bot && m.sender.workflow_id && m.sender.workflow_run_id ? (
            <>
              <span class="dot" aria-hidden="true">·</span>
              <a class="msg-run" href={`/settings/workflows/${m.sender.workflow_id}/runs/${m.sender.workflow_run_id}`} onClick={linkClick}>
                See the run
              </a>
            </>
          ) : null}
        </div>
        {failed ? <Failure m={m} onRetry={onRetry} onDiscard={onDiscard} /> : null}
      </div>
    </li>
  );
}

function Bubble({ m }: { m: MessageOut }) {
  return (
    <div class="bubble">
      {m.body ? <p class="bubble-text">{m.body}</p> : null}
      <Attachments m={m} />
    </div>
  );
}

function EmailCard({ m }: { m: MessageOut }) {
  const [open, setOpen] = useState(true);
  const [showQuoted, setShowQuoted] = useState(false);
  const [allowRemote, setAllowRemote] = useState(false);
  const id = `email-${m.id}`;
  const e = m.email;
  const html = emailHtml(m, showQuoted);
  const quoted = quotedTextShown(m, showQuoted);
  const cc = e?.cc ?? [];
  const bcc = e?.bcc ?? [];
  return (
    <div class={`email-card${open ? "" : " is-collapsed"}`}>
      <button
        type="button"
        class="email-head"
        aria-expanded={open}
        aria-controls={id}
        onClick={() => setOpen(!open)}
      >
        <span class="email-subject">{m.subject || "(no subject)"}</span>
        {e?.auto_reply ? <span class="pill pill-muted email-tag" title="Sent automatically (an out-of-office or other auto-reply)">Auto-reply</span> : null}
        {!open ? <span class="email-snippet">{m.body.slice(0, 120)}</span> : null}
        <ChevronDownIcon size={16} class="email-chevron" />
      </button>
      {open ? (
        <div class="email-body" id={id}>
          {cc.length || bcc.length ? (
            <dl class="email-people">
              {cc.length ? (
                <div>
                  <dt>Cc</dt>
                  <dd>{cc.join(", ")}</dd>
                </div>
              ) : null}
              {bcc.length ? (
                <div>
                  <dt>Bcc</dt>
                  <dd>{bcc.join(", ")}</dd>
                </div>
              ) : null}
            </dl>
          ) : null}
          {e?.remote_images && html && !allowRemote ? (
            <div class="email-bar" role="note">
              <span>Images from other sites are hidden (they can track when you read this).</span>
              <button type="button" class="link-btn" onClick={() => setAllowRemote(true)}>
                Show images
              </button>
            </div>
          ) : null}
          {html ? (
            <EmailBody html={html} allowRemote={allowRemote} title={`Email: ${m.subject || "no subject"}`} />
          ) : (
            <p class="bubble-text">{m.body}</p>
          )}
          {hasQuoted(e) ? (
            <button
              type="button"
              class="quoted-toggle"
              aria-expanded={showQuoted}
              aria-label={showQuoted ? "Hide quoted text" : "Show quoted text"}
              title={showQuoted ? "Hide quoted text" : "Show quoted text"}
              onClick={() => setShowQuoted(!showQuoted)}
            >
              •••
            </button>
          ) : null}
          {quoted ? <blockquote class="email-quoted">{quoted}</blockquote> : null}
          <Attachments m={m} />
          {e?.defects?.length ? (
            <p class="email-defects" title={e.defects.join("\n")}>
              <AlertIcon size={13} />
              <span>This email was malformed; shown as well as it could be read.</span>
            </p>
          ) : null}
          {e?.raw_url ? (
            <div class="email-foot">
              <a class="link-btn muted" href={e.raw_url} target="_blank" rel="noopener noreferrer" download>
                View original
              </a>
            </div>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

function Failure({ m, onRetry, onDiscard }: { m: MessageOut; onRetry: (m: MessageOut) => void; onDiscard: (m: MessageOut) => void }) {
  const bounce = m.email?.bounce;
  return (
    <div class={`msg-error${bounce ? " is-bounce" : ""}`} role="alert">
      <AlertIcon size={14} />
      {bounce && (bounce.status || bounce.diagnostic) ? (
        <details class="bounce-details">
          <summary>{failureText(m)}</summary>
          {bounce.status ? <p>Status {bounce.status}{bounce.permanent ? " (permanent)" : " (temporary)"}</p> : null}
          {bounce.diagnostic ? <p class="mono">{bounce.diagnostic}</p> : null}
        </details>
      ) : (
        <span>{failureText(m)}</span>
      )}
      {bounce?.raw_url ? (
        <a class="link-btn" href={bounce.raw_url} target="_blank" rel="noopener noreferrer" download>
          Bounce report
        </a>
      ) : null}
      {!bounce || !bounce.permanent ? (
        <button type="button" class="link-btn" onClick={() => onRetry(m)} aria-label="Retry sending">
          <RetryIcon size={13} /> Retry
        </button>
      ) : null}
      {m.id < 0 ? (
        <button type="button" class="link-btn muted" onClick={() => onDiscard(m)}>
          Discard
        </button>
      ) : null}
    </div>
  );
}

function Attachments({ m }: { m: MessageOut }) {
  if (!m.attachments.length) return null;
  return (
    <ul class="attachments" aria-label="Attachments">
      {m.attachments.map((a) => (
        <li key={a.id}>
          {a.url ? (
            <a class="attachment" href={a.url} target="_blank" rel="noopener noreferrer" download={a.filename}>
              <PaperclipIcon size={13} />
              <span class="attachment-name">{a.filename}</span>
              <span class="attachment-size">{fileSize(a.size)}</span>
            </a>
          ) : (
            <span class="attachment">
              <PaperclipIcon size={13} />
              <span class="attachment-name">{a.filename}</span>
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}

function Status({ m }: { m: MessageOut }) {
  const s = m.status;
  const bounced = s === "failed" && !!m.email?.bounce;
  const icon =
    s === "delivered" || s === "read" ? (
      <CheckCheckIcon size={13} />
    ) : s === "sent" ? (
      <CheckIcon size={13} />
    ) : s === "failed" ? (
      <AlertIcon size={13} />
    ) : (
      <ClockIcon size={13} />
    );
  return (
    <span class={`msg-status status-${s}`} aria-label={`Status: ${bounced ? "Bounced" : statusLabel(s)}`}>
      <span class="dot" aria-hidden="true">·</span>
      {icon}
      <span>{s === "sending" ? "Sending…" : bounced ? "Bounced" : statusLabel(s)}</span>
    </span>
  );
}
