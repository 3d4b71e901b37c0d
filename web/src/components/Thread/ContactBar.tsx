// The top contact bar: who we are talking to, where the next message goes (which phone
// for SMS, which address for email) and the thread's status and owner.

import type { Channel, ChannelOption, ContactBrief, ConversationOut } from "../../api/schemas";
import { CHANNEL_NAMES, displayName, formatPhone } from "../../lib/format";
import { useInbox } from "../../stores/context";
import { Avatar } from "../common/Avatar";
import { ChannelIcon, ChevronLeftIcon, ComposeIcon, PanelRightIcon } from "../common/Icons";

interface Props {
  conversation: ConversationOut;
  contact: ContactBrief;
  company?: string;
  channel: Channel;
  option: ChannelOption | undefined;
  recipientId: number | null;
  onRecipient: (id: number) => void;
  onEditContact: () => void;
  onNewConversation: () => void;
  optionsOpen: boolean;
  onToggleOptions: () => void;
  onBack: () => void;
}

export function endpointLabel(channel: Channel, e: { address: string; label: string; usable: boolean; reason?: string | null }): string {
  const address = channel === "sms" ? formatPhone(e.address) : e.address;
  const label = e.label ? `${e.label} · ${address}` : address;
  return e.usable ? label : `${label} — ${e.reason || "unavailable"}`;
}

export function ContactBar(p: Props) {
  const inbox = useInbox();
  const conv = p.conversation;
  const recipients = p.option?.recipients ?? [];
  return (
    <header class="contact-bar">
      <button type="button" class="icon-btn back-btn" aria-label="Back to conversations" onClick={p.onBack}>
        <ChevronLeftIcon size={20} />
      </button>
      {/* Named by hidden text, not aria-label: the initials shown are not in the name, and
          a name that leaves out what is shown confuses people who speak to select. */}
      <button type="button" class="bar-avatar" title="Quick edit" onClick={p.onEditContact}>
        <span class="sr-only">Edit contact {displayName(p.contact.name)}</span>
        <Avatar name={p.contact.name} initials={p.contact.initials} url={p.contact.avatar_url} size={38} decorative />
      </button>
      <div class="bar-id">
        <div class="bar-title">
          <h2 class="bar-name">{displayName(p.contact.name)}</h2>
          {p.company ? <span class="bar-company">{p.company}</span> : null}
        </div>
        <div class="bar-to">
          <ChannelIcon channel={p.channel} size={13} title={CHANNEL_NAMES[p.channel]} />
          {p.channel === "webchat" ? (
            <span class="bar-to-text">Web chat visitor on your website</span>
          ) : recipients.length ? (
            <div class="bar-to-select">
              <span class="bar-to-prefix" aria-hidden="true">To</span>
              <select
                aria-label={p.channel === "sms" ? "Text this number" : "Email this address"}
                value={p.recipientId ?? ""}
                onChange={(e) => p.onRecipient(Number((e.target as HTMLSelectElement).value))}
              >
                {recipients.map((r) => (
                  <option value={r.id} key={r.id} disabled={!r.usable}>
                    {endpointLabel(p.channel, r)}
                  </option>
                ))}
              </select>
            </div>
          ) : (
            <span class="bar-to-text muted">
              {p.channel === "sms" ? "No phone number on file" : "No email address on file"}
            </span>
          )}
        </div>
      </div>
      <div class="bar-actions">
        <div class="select-wrap select-sm">
          <select
            aria-label="Assignee"
            value={conv.assignee_id ?? ""}
            onChange={(e) => {
              const v = (e.target as HTMLSelectElement).value;
              void inbox.thread.updateConversation(conv.id, { assignee_id: v ? Number(v) : null });
            }}
          >
            <option value="">Unassigned</option>
            {inbox.users.list.value
              .filter((u) => u.active || u.id === conv.assignee_id)
              .map((u) => (
                <option value={u.id} key={u.id}>
                  {u.name}
                </option>
              ))}
          </select>
        </div>
        {conv.status === "open" ? (
          <button type="button" class="btn btn-secondary btn-sm" aria-label="Close conversation" onClick={() => void inbox.thread.updateConversation(conv.id, { status: "closed" })}>
            Close
          </button>
        ) : (
          <button type="button" class="btn btn-secondary btn-sm" aria-label="Reopen conversation" onClick={() => void inbox.thread.updateConversation(conv.id, { status: "open" })}>
            Reopen
          </button>
        )}
        <button type="button" class="icon-btn" aria-label="New conversation" title="New conversation" onClick={p.onNewConversation}>
          <ComposeIcon size={17} />
        </button>
        <button
          type="button"
          class={`fab-options${p.optionsOpen ? " is-active" : ""}`}
          aria-label="Communication options"
          aria-expanded={p.optionsOpen}
          aria-controls="comm-options"
          title="Communication options"
          onClick={p.onToggleOptions}
        >
          <PanelRightIcon size={17} />
        </button>
      </div>
    </header>
  );
}
