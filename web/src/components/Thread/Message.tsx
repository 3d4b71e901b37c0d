import { useState } from "preact/hooks";
import type { MessageOut } from "../../api/schemas";
import { CHANNEL_NAMES, clockTime, fileSize, fullTime, statusLabel } from "../../lib/format";
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
import { endpointText, sideOf } from "./logic";

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
        </div>
        {failed ? (
          <div class="msg-error" role="alert">
            <AlertIcon size={14} />
            <span>
              Not delivered{m.error_message ? `: ${m.error_message}` : "."}
              {m.error_code && !(m.error_message ?? "").includes(m.error_code) ? ` (${m.error_code})` : ""}
            </span>
            <button type="button" class="link-btn" onClick={() => onRetry(m)} aria-label="Retry sending">
              <RetryIcon size={13} /> Retry
            </button>
            {m.id < 0 ? (
              <button type="button" class="link-btn muted" onClick={() => onDiscard(m)}>
                Discard
              </button>
            ) : null}
          </div>
        ) : null}
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
  const id = `email-${m.id}`;
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
        {!open ? <span class="email-snippet">{m.body.slice(0, 120)}</span> : null}
        <ChevronDownIcon size={16} class="email-chevron" />
      </button>
      {open ? (
        <div class="email-body" id={id}>
          {m.html ? <EmailBody html={m.html} title={`Email: ${m.subject || "no subject"}`} /> : <p class="bubble-text">{m.body}</p>}
          <Attachments m={m} />
        </div>
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
    <span class={`msg-status status-${s}`} aria-label={`Status: ${statusLabel(s)}`}>
      <span class="dot" aria-hidden="true">·</span>
      {icon}
      <span>{s === "sending" ? "Sending…" : statusLabel(s)}</span>
    </span>
  );
}
