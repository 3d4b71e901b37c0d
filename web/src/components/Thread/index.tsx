// The dialog window: contact bar, the thread (older pages on scroll, position kept),
// the composer, and the communication options panel.

import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import type { Channel } from "../../api/schemas";
import { dayLabel, displayName } from "../../lib/format";
import { navigate } from "../../lib/router";
import { useInbox, useSession } from "../../stores/context";
import { CommunicationOptions } from "../CommunicationOptions";
import { Composer } from "../Composer";
import { defaultChannel, optionFor, pickEndpoint, replySubject } from "../Composer/logic";
import { ComposeIcon, InboxIcon } from "../common/Icons";
import { ContactBar } from "./ContactBar";
import { keepPosition, lastChannel, threadItems } from "./logic";
import { Message } from "./Message";

interface Props {
  onNewConversation: () => void;
  onEditContact: (contactId: number) => void;
}

export function Thread({ onNewConversation, onEditContact }: Props) {
  const inbox = useInbox();
  const state = inbox.live.value;
  const conv = inbox.thread.conversation.value;
  const options = inbox.contact.channelOptions.value;
  const contact = inbox.contact.details.value;
  const [optionsOpen, setOptionsOpen] = useState(false);
  const [channel, setChannel] = useState<Channel | null>(null);
  const [senders, setSenders] = useState<Partial<Record<Channel, number>>>({});
  const [recipients, setRecipients] = useState<Partial<Record<Channel, number>>>({});

  // A new thread starts from its own defaults.
  useEffect(() => {
    setChannel(null);
    setSenders({});
    setRecipients({});
  }, [state.openId]);

  useEffect(() => {
    if (channel === null && options && options.conversation_id === state.openId) {
      setChannel(defaultChannel(options, lastChannel(state.thread), contact?.preferred_channel ?? null));
    }
  }, [options, channel, contact?.preferred_channel]);

  if (state.openId === null) {
    return (
      <section class="thread thread-empty" aria-label="Dialog window">
        <div class="empty-state">
          <div class="empty-icon">
            <InboxIcon size={28} />
          </div>
          <h2>Pick a conversation</h2>
          <p>Choose someone on the left, or start talking to any contact by SMS, web chat or email.</p>
          <button type="button" class="btn btn-primary" onClick={onNewConversation}>
            <ComposeIcon size={16} />
            <span>New conversation</span>
          </button>
          <p class="hint">
            Shortcuts: <kbd>N</kbd> new conversation · <kbd>/</kbd> search · <kbd>J</kbd>/<kbd>K</kbd> next and previous · <kbd>?</kbd> all
          </p>
        </div>
      </section>
    );
  }

  const current: Channel = channel ?? conv?.last_message_channel ?? "sms";
  const option = optionFor(options, current);
  const senderId = option ? pickEndpoint(option.senders, senders[current], option.default_sender_id) : null;
  const recipientId = option ? pickEndpoint(option.recipients, recipients[current], option.default_recipient_id) : null;
  const brief = conv?.contact ?? (contact ? { id: contact.id, name: contact.name, initials: contact.initials, avatar_url: contact.avatar_url } : null);

  return (
    <section class={`thread${optionsOpen ? " with-options" : ""}`} aria-label="Dialog window">
      <div class="thread-main">
        {conv && brief ? (
          <ContactBar
            conversation={conv}
            contact={brief}
            company={contact?.company}
            channel={current}
            option={option}
            recipientId={recipientId}
            onRecipient={(id) => setRecipients({ ...recipients, [current]: id })}
            onEditContact={() => onEditContact(brief.id)}
            onNewConversation={onNewConversation}
            optionsOpen={optionsOpen}
            onToggleOptions={() => setOptionsOpen(!optionsOpen)}
            onBack={() => navigate("/")}
          />
        ) : (
          <header class="contact-bar contact-bar-loading" aria-busy="true" />
        )}
        <MessageList />
        {conv ? (
          <Composer
            conversationId={conv.id}
            contactName={brief ? displayName(brief.name) : "this contact"}
            options={options}
            channel={current}
            onChannel={(c) => setChannel(c)}
            senderId={senderId}
            onSender={(id) => setSenders({ ...senders, [current]: id })}
            recipientId={recipientId}
            replySubject={replySubject(state.thread)}
          />
        ) : null}
      </div>
      {optionsOpen ? (
        <CommunicationOptions
          contact={contact}
          onClose={() => setOptionsOpen(false)}
          onEditContact={() => brief && onEditContact(brief.id)}
        />
      ) : null}
    </section>
  );
}

function MessageList() {
  const inbox = useInbox();
  const me = useSession().user.value?.id;
  const thread = inbox.live.value.thread;
  const openId = inbox.live.value.openId;
  const ref = useRef<HTMLDivElement>(null);
  const items = useMemo(() => threadItems(thread), [thread]);
  const [below, setBelow] = useState(0);
  const prev = useRef<{ firstKey: string | null; lastKey: string | null; height: number; top: number; openId: number | null }>({
    firstKey: null,
    lastKey: null,
    height: 0,
    top: 0,
    openId: null,
  });

  // Whether the thread is held at its newest message: set when we put it there, and
  // from then on by the reader's own scrolling only. Sizes that change without a scroll
  // (an email's frame growing once loaded, the composer growing once the channels are
  // known) keep it there; a reader who scrolled up meanwhile is left where they are.
  const pinned = useRef(true);

  // Keep the reader's place: stick to the bottom for new messages, and hold the same
  // message under the eye when an older page is prepended.
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const firstKey = thread.length ? String(thread[0].id) : null;
    const lastKey = thread.length ? String(thread[thread.length - 1].id) : null;
    const p = prev.current;
    if (p.openId !== openId) {
      el.scrollTop = el.scrollHeight;
      pinned.current = true;
      setBelow(0);
    } else if (p.firstKey !== firstKey && p.lastKey === lastKey && p.firstKey !== null) {
      el.scrollTop = keepPosition(p.top, p.height, el.scrollHeight);
    } else if (p.lastKey !== lastKey) {
      const nearBottom = p.height - (p.top + el.clientHeight) < 160;
      const last = thread[thread.length - 1];
      const mine = !!last && (last.id < 0 || (last.sender.type === "user" && last.sender.user_id === me));
      if (nearBottom || mine) {
        el.scrollTop = el.scrollHeight;
        pinned.current = true;
      }
      // Reading older messages: say that something new arrived instead of jumping.
      else setBelow((n) => n + 1);
    }
    prev.current = { firstKey, lastKey, height: el.scrollHeight, top: el.scrollTop, openId };
  }, [thread, openId]);

  // The messages growing (email frames settle their height after load) or the scroller
  // shrinking (the composer below it grows): stay at the bottom if we were held there.
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const inner = el.firstElementChild;
    if (!inner) return;
    const ro = new ResizeObserver(() => {
      if (pinned.current) el.scrollTop = el.scrollHeight;
      prev.current = { ...prev.current, height: el.scrollHeight, top: el.scrollTop };
    });
    ro.observe(inner);
    ro.observe(el);
    return () => ro.disconnect();
  }, [openId]);

  function onScroll() {
    const el = ref.current;
    if (!el) return;
    // A scroll we caused lands at the bottom and keeps the pin; the reader's moves decide.
    pinned.current = el.scrollHeight - (el.scrollTop + el.clientHeight) < 24;
    prev.current = { ...prev.current, top: el.scrollTop, height: el.scrollHeight };
    if (below && el.scrollHeight - (el.scrollTop + el.clientHeight) < 80) setBelow(0);
    if (el.scrollTop < 200 && inbox.thread.olderCursor.value && !inbox.thread.olderLoading.value) void inbox.thread.loadOlder();
  }

  function jumpToNewest() {
    const el = ref.current;
    if (el) el.scrollTo({ top: el.scrollHeight, behavior: "smooth" });
    setBelow(0);
  }

  return (
    <div class="messages-wrap">
    {below > 0 ? (
      <button type="button" class="new-below" onClick={jumpToNewest}>
        {below === 1 ? "1 new message" : `${below} new messages`} ↓
      </button>
    ) : null}
    <div class="messages-scroll" ref={ref} onScroll={onScroll} tabIndex={-1}>
      <div class="messages-inner">
        {inbox.thread.olderCursor.value ? (
          <div class="older">
            <button type="button" class="link-btn" disabled={inbox.thread.olderLoading.value} onClick={() => void inbox.thread.loadOlder()}>
              {inbox.thread.olderLoading.value ? "Loading earlier messages…" : "Load earlier messages"}
            </button>
          </div>
        ) : thread.length > 0 ? (
          <p class="thread-start">This is the start of the conversation.</p>
        ) : null}
        {inbox.thread.error.value ? (
          <p class="panel-note panel-error" role="alert">
            {inbox.thread.error.value}
          </p>
        ) : null}
        {inbox.thread.loading.value && thread.length === 0 ? <p class="panel-note">Loading messages…</p> : null}
        {!inbox.thread.loading.value && thread.length === 0 && !inbox.thread.error.value ? (
          <p class="thread-start">No messages yet. Say hello below.</p>
        ) : null}
        {/* The log announces what arrives; the list inside it keeps the rows a list that a
            screen reader counts and walks (role="log" on the <ol> itself took that away).
            A day's label is an item of its own: a separator is not allowed in a list. */}
        <div class="messages-log" role="log" aria-label="Messages">
          <ol class="messages" aria-label="Messages">
            {items.map((item) =>
              item.kind === "day" ? (
                <li class="day-sep" key={item.key}>
                  <span>{dayLabel(item.day)}</span>
                </li>
              ) : (
                <Message key={item.key} message={item.message!} first={!!item.first} onRetry={inbox.sending.retry} onDiscard={inbox.sending.discard} />
              ),
            )}
          </ol>
        </div>
        {inbox.thread.typingName.value ? (
          <p class="typing-note" aria-live="polite">
            <span class="typing-dots" aria-hidden="true">
              <span />
              <span />
              <span />
            </span>
            {inbox.thread.typingName.value} is typing…
          </p>
        ) : null}
      </div>
    </div>
    </div>
  );
}
