// The workflow editor's vocabulary: the triggers, conditions and steps it offers, a new
// one of each, the sentence that sums each up, and the body the API takes (empty optional
// fields left out). Kept apart from the component so it can be unit-tested.

export type Part = Record<string, unknown>;

export interface Names {
  users: Map<number, string>;
  /** Company endpoints by channel and id (numbers, mailboxes, widgets). */
  senders: Map<string, Map<number, string>>;
  /** Webhook endpoints by id. */
  endpoints?: Map<number, string>;
}

export const CHANNELS: [string, string][] = [
  ["sms", "SMS"],
  ["email", "Email"],
  ["webchat", "Web chat"],
];

export const TRIGGERS: [string, string][] = [
  ["message_received", "A contact's message arrives"],
  ["conversation_opened", "A contact writes for the first time"],
  ["contact_created", "A contact is created"],
  ["conversation_assigned", "A conversation is assigned"],
  ["conversation_closed", "A conversation is closed"],
  ["tag_added", "A tag is added to a contact"],
  ["no_agent_reply", "No agent has replied for a while"],
  ["no_contact_reply", "The contact has not replied for a while"],
  ["schedule", "On a schedule"],
];

export const CONDITION_FIELDS: { field: string; label: string; ops: [string, string][] }[] = [
  { field: "channel", label: "Channel", ops: [["is", "is"], ["is_not", "is not"]] },
  { field: "contact.tag", label: "Contact's tags", ops: [["has", "include"], ["has_not", "do not include"]] },
  { field: "contact.name", label: "Contact's name", ops: textOps() },
  { field: "contact.company", label: "Contact's company", ops: textOps() },
  { field: "contact.email", label: "Contact's email", ops: textOps() },
  { field: "contact.phone", label: "Contact's phone", ops: textOps() },
  { field: "conversation.status", label: "Conversation", ops: [["is", "is"]] },
  {
    field: "conversation.assignee",
    label: "Assignee",
    ops: [["is", "is"], ["is_not", "is not"], ["is_set", "is someone"], ["is_not_set", "is nobody"]],
  },
  { field: "office_hours", label: "Time", ops: [["within", "is within office hours"], ["outside", "is outside office hours"]] },
  { field: "message.text", label: "Message", ops: [["contains", "contains"], ["matches", "matches the pattern"]] },
];

function textOps(): [string, string][] {
  return [["contains", "contains"], ["is", "is"], ["is_set", "is set"], ["is_not_set", "is not set"]];
}

export const STEP_TYPES: [string, string][] = [
  ["send_message", "Send a message as the bot"],
  ["assign", "Assign"],
  ["tag", "Add a tag"],
  ["untag", "Remove a tag"],
  ["close", "Close the conversation"],
  ["reopen", "Reopen the conversation"],
  ["create_task", "Create a task"],
  ["call_webhook", "Call a webhook"],
  ["wait", "Wait"],
];

export function newTrigger(type: string): Part {
  if (type === "no_agent_reply" || type === "no_contact_reply") return { type, minutes: 5 };
  if (type === "schedule") return { type, cron: "0 9 * * 1" };
  if (type === "tag_added") return { type, tag: "" };
  if (type === "message_received") return { type, keywords: [] };
  return { type };
}

export function newCondition(field: string): Part {
  const spec = CONDITION_FIELDS.find((f) => f.field === field) ?? CONDITION_FIELDS[0];
  const op = spec.ops[0][0];
  if (field === "channel") return { field, op, value: "sms" };
  if (field === "conversation.status") return { field, op, value: "open" };
  if (field === "conversation.assignee") return { field, op: "is_set" };
  if (field === "office_hours") return { field, op: "outside", hours: { mon: ["09:00", "17:00"], tue: ["09:00", "17:00"], wed: ["09:00", "17:00"], thu: ["09:00", "17:00"], fri: ["09:00", "17:00"] } };
  return { field, op, value: "" };
}

export function newStep(type: string): Part {
  if (type === "send_message") return { type, body: "" };
  if (type === "assign") return { type, round_robin: true };
  if (type === "tag" || type === "untag") return { type, tag: "" };
  if (type === "create_task") return { type, title: "" };
  if (type === "wait") return { type, minutes: 60 };
  if (type === "call_webhook") return { type, endpoint_id: null };
  return { type };
}

const channelName = (c: unknown) => CHANNELS.find(([v]) => v === c)?.[1] ?? String(c);

function minutes(m: unknown): string {
  const n = Number(m);
  if (n < 1) return `${Math.round(n * 60)} seconds`;
  if (n % 1440 === 0) return n === 1440 ? "a day" : `${n / 1440} days`;
  if (n % 60 === 0) return n === 60 ? "an hour" : `${n / 60} hours`;
  return n === 1 ? "a minute" : `${n} minutes`;
}

/** "When a contact's message contains HOURS on SMS", and so on. */
export function describeTrigger(t: Part, names: Names): string {
  const on = t.channel ? ` on ${channelName(t.channel)}` : "";
  switch (t.type) {
    case "message_received": {
      const words = (t.keywords as string[] | undefined) ?? [];
      const what = words.length ? ` containing ${words.map((w) => `“${w}”`).join(" or ")}` : "";
      const pattern = t.pattern ? ` matching /${String(t.pattern)}/` : "";
      return `When a contact's message arrives${on}${what}${pattern}`;
    }
    case "conversation_opened":
      return `When a contact writes for the first time${on}`;
    case "contact_created":
      return "When a contact is created";
    case "conversation_assigned":
      return t.user_id ? `When a conversation is assigned to ${names.users.get(Number(t.user_id)) ?? "a user"}` : "When a conversation is assigned";
    case "conversation_closed":
      return "When a conversation is closed";
    case "tag_added":
      return `When the tag “${String(t.tag)}” is added to a contact`;
    case "no_agent_reply":
      return `When no agent has replied for ${minutes(t.minutes)}`;
    case "no_contact_reply":
      return `When the contact has not replied for ${minutes(t.minutes)}`;
    case "schedule":
      return `On the schedule “${String(t.cron)}”${t.timezone ? ` (${String(t.timezone)})` : ""}`;
  }
  return String(t.type);
}

export function describeStep(s: Part, names: Names): string {
  switch (s.type) {
    case "send_message": {
      const on = s.channel ? ` by ${channelName(s.channel)}` : "";
      const from = s.channel && s.sender_id ? names.senders.get(String(s.channel))?.get(Number(s.sender_id)) : null;
      return `Send “${String(s.body)}”${on}${from ? ` from ${from}` : ""}`;
    }
    case "assign":
      return s.user_id ? `Assign to ${names.users.get(Number(s.user_id)) ?? "a user"}` : "Assign to the next agent in turn";
    case "tag":
      return `Add the tag “${String(s.tag)}”`;
    case "untag":
      return `Remove the tag “${String(s.tag)}”`;
    case "close":
      return "Close the conversation";
    case "reopen":
      return "Reopen the conversation";
    case "create_task":
      return `Create the task “${String(s.title)}”${s.user_id ? ` for ${names.users.get(Number(s.user_id)) ?? "a user"}` : ""}`;
    case "wait":
      return `Wait ${minutes(s.minutes)}${s.until ? " or until the contact replies" : ""}`;
    case "call_webhook":
      return `Call the webhook ${names.endpoints?.get(Number(s.endpoint_id)) ?? ""}`.trim();
  }
  return String(s.type);
}

/** The part as the API takes it: empty optional values left out. */
export function cleaned(p: Part): Part {
  const out: Part = {};
  for (const [k, v] of Object.entries(p)) {
    if (v === "" || v === null || v === undefined) continue;
    if (Array.isArray(v) && v.length === 0 && k === "keywords") continue;
    out[k] = v;
  }
  if (out.type === "assign") {
    if (out.user_id) delete out.round_robin;
    else out.round_robin = true;
  }
  if (out.type === "wait" && !out.until) delete out.until;
  return out;
}

/** Keywords typed as "hours, open times" → ["hours", "open times"]. */
export function keywordsOf(text: string): string[] {
  return text.split(",").map((w) => w.trim()).filter(Boolean);
}
