// Settings → Workflows: automations that act on conversations and send as the bot. The
// list (on/off, why one was paused), the editor (a trigger, conditions, steps in order), a
// test run against a contact that does nothing, and each workflow's recent runs step by step.

import type { ComponentChildren, JSX } from "preact";
import { useEffect, useId, useState } from "preact/hooks";
import { api, type ContactOut, type RunOut, type TestRunOut, type WorkflowOut } from "../../api";
import { ApiError } from "../../api/client";
import { errorText } from "../../lib/errors";
import { linkClick, navigate } from "../../lib/router";
import { Avatar } from "../common/Avatar";
import { AdminNote, Section, useList } from "./common";
import { WEEKDAYS, hoursOf, weekOf, type Week } from "./officeHours";
import {
  CHANNELS,
  CONDITION_FIELDS,
  STEP_TYPES,
  TRIGGERS,
  cleaned,
  describeStep,
  describeTrigger,
  keywordsOf,
  newCondition,
  newStep,
  newTrigger,
  type Names,
  type Part,
} from "./workflowForm";

type Editing = { workflow: WorkflowOut | null } | null;

export function Workflows({ admin, item }: { admin: boolean; item?: string }) {
  const list = useList<WorkflowOut>(api.workflows.list);
  const names = useNames();
  const [editing, setEditing] = useState<Editing>(null);
  // "/settings/workflows/3/runs/12": workflow 3's runs open, run 12 shown.
  const linked = /^(\d+)(?:\/runs\/(\d+))?$/.exec(item ?? "");
  const openId = linked?.[1] ?? null;
  const runId = linked?.[2] ?? null;

  async function saved() {
    setEditing(null);
    await list.reload();
  }

  return (
    <Section
      title="Workflows"
      intro="Automations that act on conversations: when something happens, and the conditions hold, the steps run in order. Messages they send come from the bot, with the workflow's name."
    >
      <AdminNote admin={admin} />
      {editing ? (
        <WorkflowEditor workflow={editing.workflow} names={names} onSaved={saved} onCancel={() => setEditing(null)} />
      ) : null}
      {(list.items ?? []).map((w) => (
        <WorkflowCard
          key={w.id}
          workflow={w}
          admin={admin}
          names={names}
          showRuns={openId === String(w.id)}
          runId={runId ? Number(runId) : null}
          onEdit={() => setEditing({ workflow: w })}
          onChanged={list.reload}
          onError={list.setError}
        />
      ))}
      {list.items && list.items.length === 0 ? <p class="muted">No workflow yet.</p> : null}
      {admin && !editing ? (
        <div class="form-actions workflow-new">
          <button type="button" class="btn btn-primary" onClick={() => setEditing({ workflow: null })}>
            New workflow
          </button>
        </div>
      ) : null}
      {list.error ? <p class="form-error" role="alert">{list.error}</p> : null}
    </Section>
  );
}

/** The names the summaries use: users, and each channel's company endpoints. */
function useNames(): Names & { userList: [number, string][] } {
  const [names, setNames] = useState<Names & { userList: [number, string][] }>({ users: new Map(), senders: new Map(), userList: [] });
  useEffect(() => {
    void (async () => {
      const [users, numbers, mailboxes, widgets, hooks] = await Promise.all([
        api.users.list().catch(() => []),
        api.phoneNumbers.list().catch(() => []),
        api.mailboxes.list().catch(() => []),
        api.widgets.list().catch(() => []),
        api.webhooks.list().catch(() => []),
      ]);
      const active = users.filter((u) => u.active);
      setNames({
        users: new Map(users.map((u) => [u.id, u.name])),
        userList: active.map((u) => [u.id, u.name]),
        endpoints: new Map(hooks.map((h) => [h.id, h.description || h.url])),
        senders: new Map([
          ["sms", new Map(numbers.map((n) => [n.id, n.label ? `${n.label} (${n.e164})` : n.e164]))],
          ["email", new Map(mailboxes.map((m) => [m.id, m.address]))],
          ["webchat", new Map(widgets.map((w) => [w.id, w.name]))],
        ]),
      });
    })();
  }, []);
  return names;
}

function WorkflowCard(p: {
  workflow: WorkflowOut;
  admin: boolean;
  names: Names;
  showRuns: boolean;
  runId: number | null;
  onEdit: () => void;
  onChanged: () => Promise<void>;
  onError: (e: string) => void;
}) {
  const w = p.workflow;
  const [panel, setPanel] = useState<"runs" | "test" | null>(p.showRuns ? "runs" : null);
  useEffect(() => {
    if (p.showRuns) setPanel("runs");
  }, [p.showRuns, p.runId]);

  async function toggle(enabled: boolean) {
    try {
      await api.workflows.update(w.id, { enabled });
      await p.onChanged();
    } catch (err) {
      p.onError(errorText(err));
    }
  }

  async function remove() {
    if (!confirm(`Delete the workflow “${w.name}”? Its runs' history goes with it.`)) return;
    try {
      await api.workflows.remove(w.id);
      await p.onChanged();
    } catch (err) {
      p.onError(errorText(err));
    }
  }

  return (
    <section class="card workflow-card" aria-label={`Workflow ${w.name}`}>
      <header class="widget-head">
        <Avatar name={w.name} initials="" size={26} bot decorative />
        <h3>{w.name}</h3>
        <span class={`pill ${w.enabled ? "pill-ok" : "pill-muted"}`}>{w.enabled ? "On" : w.paused_reason ? "Paused" : "Off"}</span>
        <span class="spacer" />
        <label class="switch">
          <input type="checkbox" role="switch" disabled={!p.admin} checked={w.enabled} aria-label={`Turn on ${w.name}`} onChange={(e) => void toggle((e.target as HTMLInputElement).checked)} />
          <span class="switch-track" aria-hidden="true" />
        </label>
      </header>
      {w.paused_reason ? <p class="notice" role="status">{w.paused_reason}</p> : null}
      <ol class="workflow-summary">
        <li class="workflow-when">{describeTrigger(w.trigger, p.names)}</li>
        {w.conditions.map((c, i) => (
          <li key={`c${i}`} class="muted">{i === 0 ? "only if" : "and"} {conditionText(c).toLowerCase()}</li>
        ))}
        {w.steps.map((s, i) => (
          <li key={i}>
            <span class="workflow-step-no">{i + 1}</span> {describeStep(s, p.names)}
          </li>
        ))}
      </ol>
      {w.next_fire_at ? <p class="muted small">Next: {new Date(w.next_fire_at).toLocaleString()}</p> : null}
      <div class="form-actions">
        {p.admin ? <button type="button" class="btn btn-secondary btn-sm" onClick={p.onEdit}>Edit</button> : null}
        <button type="button" class="btn btn-secondary btn-sm" aria-expanded={panel === "test"} onClick={() => setPanel(panel === "test" ? null : "test")}>Test run</button>
        <button
          type="button"
          class="btn btn-secondary btn-sm"
          aria-expanded={panel === "runs"}
          onClick={() => {
            setPanel(panel === "runs" ? null : "runs");
            if (panel === "runs") navigate("/settings/workflows", { replace: true });
          }}
        >
          Recent runs
        </button>
        {p.admin ? <button type="button" class="btn btn-ghost btn-sm" onClick={() => void remove()}>Delete</button> : null}
      </div>
      {panel === "test" ? <TestRun workflow={w} /> : null}
      {panel === "runs" ? <Runs workflow={w} highlight={p.runId} /> : null}
    </section>
  );
}

function Runs({ workflow, highlight }: { workflow: WorkflowOut; highlight: number | null }) {
  const list = useList<RunOut>(() => api.workflows.runs(workflow.id));
  useEffect(() => {
    if (highlight && list.items) document.getElementById(`run-${highlight}`)?.scrollIntoView({ block: "center" });
  }, [highlight, list.items]);
  return (
    <div class="workflow-runs" role="region" aria-label={`Recent runs of ${workflow.name}`}>
      {list.items && list.items.length === 0 ? <p class="muted">It has not run yet.</p> : null}
      <ul>
        {(list.items ?? []).map((r) => (
          <li key={r.id} id={`run-${r.id}`} class={`workflow-run${r.id === highlight ? " is-highlighted" : ""}`} aria-label={`Run ${r.id}: ${r.status}`}>
            <div class="workflow-run-head">
              <span class={`pill ${RUN_PILL[r.status] ?? "pill-muted"}`}>{RUN_LABEL[r.status] ?? r.status}</span>
              <span class="muted small">{new Date(r.created_at).toLocaleString()}</span>
              {r.conversation_id ? (
                <a href={`/conversations/${r.conversation_id}`} onClick={linkClick} class="small">Open the conversation</a>
              ) : null}
              {r.status === "waiting" ? <span class="muted small">until {new Date(r.due_at).toLocaleString()}{r.waiting_for ? " or the contact's reply" : ""}</span> : null}
            </div>
            {r.log.length ? (
              <ol class="workflow-run-log">
                {r.log.map((line, i) => (
                  <li key={i}>{String(line.note)}</li>
                ))}
              </ol>
            ) : null}
            {r.error ? <p class="form-error">{r.error}</p> : null}
          </li>
        ))}
      </ul>
      {list.error ? <p class="form-error" role="alert">{list.error}</p> : null}
    </div>
  );
}

const RUN_LABEL: Record<string, string> = {
  waiting: "Waiting",
  running: "Running",
  completed: "Done",
  cancelled: "Not needed",
  failed: "Failed",
};
const RUN_PILL: Record<string, string> = {
  waiting: "pill-muted",
  running: "pill-muted",
  completed: "pill-ok",
  cancelled: "pill-muted",
  failed: "pill-bad",
};

function TestRun({ workflow }: { workflow: WorkflowOut }) {
  const [q, setQ] = useState("");
  const [found, setFound] = useState<ContactOut[]>([]);
  const [contact, setContact] = useState<ContactOut | null>(null);
  const [text, setText] = useState("");
  const [out, setOut] = useState<TestRunOut | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!q.trim() || (contact && contact.name === q)) {
      setFound([]);
      return;
    }
    const ctl = new AbortController();
    const t = setTimeout(() => {
      api.contacts.search(q, null, 6, ctl.signal).then((page) => setFound(page.items), () => undefined);
    }, 150);
    return () => {
      clearTimeout(t);
      ctl.abort();
    };
  }, [q]);

  async function run(e: Event) {
    e.preventDefault();
    if (!contact) return;
    try {
      setOut(await api.workflows.test(workflow.id, { contact_id: contact.id, text }));
      setError(null);
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <form class="form workflow-test" onSubmit={run} aria-label={`Test run of ${workflow.name}`}>
      <p class="muted small">What it would do for a contact now. Nothing is sent or changed.</p>
      <div class="field-row">
        <label class="field grow">
          <span>Contact</span>
          <input value={q} placeholder="Search contacts" onInput={(e) => { setQ((e.target as HTMLInputElement).value); setContact(null); setOut(null); }} />
        </label>
        <label class="field grow">
          <span>Their message (for conditions on its text)</span>
          <input value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        </label>
      </div>
      {found.length ? (
        <ul class="workflow-test-found" role="listbox" aria-label="Contacts found">
          {found.map((c) => (
            <li key={c.id} role="option" aria-selected={contact?.id === c.id}>
              <button type="button" class="link-btn" onClick={() => { setContact(c); setQ(c.name || String(c.id)); setFound([]); }}>
                {c.name || `Contact ${c.id}`}
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      <div class="form-actions">
        <button type="submit" class="btn btn-secondary btn-sm" disabled={!contact}>Run the test</button>
      </div>
      {out ? (
        <div class="workflow-test-out" role="region" aria-label="Test run result">
          <p>
            <strong>{out.runs ? "It would run:" : "It would not run: a condition does not hold."}</strong>
          </p>
          {out.conditions.length ? (
            <ul>
              {out.conditions.map((c, i) => (
                <li key={i} class={c.holds ? "holds" : "fails"}>
                  {c.holds ? "✓" : "✗"} {conditionText(c.condition)}
                </li>
              ))}
            </ul>
          ) : null}
          <ol>
            {out.steps.map((s) => (
              <li key={s.step}>
                {s.would}
                {s.problem ? <span class="form-error"> — would fail: {s.problem}</span> : null}
              </li>
            ))}
          </ol>
        </div>
      ) : null}
      {error ? <p class="form-error" role="alert">{error}</p> : null}
    </form>
  );
}

function conditionText(c: Part): string {
  const spec = CONDITION_FIELDS.find((f) => f.field === c.field);
  const op = spec?.ops.find(([v]) => v === c.op)?.[1] ?? String(c.op);
  const value = c.field === "channel" ? CHANNELS.find(([v]) => v === c.value)?.[1] : c.value;
  return `${spec?.label ?? String(c.field)} ${op}${value != null && value !== "" && c.field !== "office_hours" ? ` ${String(value)}` : ""}`;
}

// --- The editor -------------------------------------------------------------------------

function WorkflowEditor(p: { workflow: WorkflowOut | null; names: Names & { userList: [number, string][] }; onSaved: () => Promise<void>; onCancel: () => void }) {
  const [name, setName] = useState(p.workflow?.name ?? "");
  const [trigger, setTrigger] = useState<Part>(p.workflow?.trigger ?? newTrigger("message_received"));
  const [conditions, setConditions] = useState<Part[]>(p.workflow?.conditions ?? []);
  const [steps, setSteps] = useState<Part[]>(p.workflow?.steps ?? [newStep("send_message")]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function save(e: Event) {
    e.preventDefault();
    setBusy(true);
    const body = {
      name: name.trim(),
      trigger: cleaned(trigger),
      conditions: conditions.map(cleaned),
      steps: steps.map(cleaned),
    };
    try {
      if (p.workflow) await api.workflows.update(p.workflow.id, body as never);
      else await api.workflows.create({ ...body, enabled: true } as never);
      await p.onSaved();
    } catch (err) {
      setError(err instanceof ApiError ? explain(err) : errorText(err));
    } finally {
      setBusy(false);
    }
  }

  const setStep = (i: number, s: Part) => setSteps(steps.map((x, j) => (j === i ? s : x)));
  const move = (i: number, by: number) => {
    const next = [...steps];
    const [s] = next.splice(i, 1);
    next.splice(i + by, 0, s);
    setSteps(next);
  };

  return (
    <form class="card form workflow-editor" onSubmit={save} aria-label={p.workflow ? `Edit ${p.workflow.name}` : "New workflow"}>
      <h3>{p.workflow ? `Edit “${p.workflow.name}”` : "New workflow"}</h3>
      <label class="field">
        <span>Name (shown on its messages)</span>
        <input required value={name} placeholder="Opening hours" onInput={(e) => setName((e.target as HTMLInputElement).value)} />
      </label>

      <fieldset class="workflow-part">
        <legend>When</legend>
        <TriggerFields trigger={trigger} onChange={setTrigger} users={p.names.userList} />
      </fieldset>

      <fieldset class="workflow-part">
        <legend>Only if (all of these hold)</legend>
        {conditions.length === 0 ? <p class="muted small">Always.</p> : null}
        {conditions.map((c, i) => (
          <div class="workflow-row" key={i} role="group" aria-label={`Condition ${i + 1}`}>
            <ConditionFields
              condition={c}
              users={p.names.userList}
              onChange={(next) => setConditions(conditions.map((x, j) => (j === i ? next : x)))}
            />
            <button type="button" class="icon-btn" aria-label={`Remove condition ${i + 1}`} onClick={() => setConditions(conditions.filter((_, j) => j !== i))}>×</button>
          </div>
        ))}
        <button type="button" class="btn btn-secondary btn-sm" onClick={() => setConditions([...conditions, newCondition("contact.tag")])}>Add a condition</button>
      </fieldset>

      <fieldset class="workflow-part">
        <legend>Then, in order</legend>
        {steps.map((s, i) => (
          <div class="workflow-row" key={i} role="group" aria-label={`Step ${i + 1}`}>
            <span class="workflow-step-no">{i + 1}</span>
            <StepFields step={s} names={p.names} onChange={(next) => setStep(i, next)} />
            <div class="workflow-row-tools">
              <button type="button" class="icon-btn" aria-label={`Move step ${i + 1} up`} disabled={i === 0} onClick={() => move(i, -1)}>↑</button>
              <button type="button" class="icon-btn" aria-label={`Move step ${i + 1} down`} disabled={i === steps.length - 1} onClick={() => move(i, 1)}>↓</button>
              <button type="button" class="icon-btn" aria-label={`Remove step ${i + 1}`} disabled={steps.length === 1} onClick={() => setSteps(steps.filter((_, j) => j !== i))}>×</button>
            </div>
          </div>
        ))}
        <button type="button" class="btn btn-secondary btn-sm" onClick={() => setSteps([...steps, newStep("send_message")])}>Add a step</button>
      </fieldset>

      {error ? <p class="form-error" role="alert">{error}</p> : null}
      <div class="form-actions">
        <button type="button" class="btn btn-secondary" onClick={p.onCancel}>Cancel</button>
        <button type="submit" class="btn btn-primary" disabled={busy}>Save workflow</button>
      </div>
    </form>
  );
}

/** The server's answer, with where in the workflow it points. */
function explain(err: ApiError): string {
  const d = err.details as unknown;
  if (Array.isArray(d) && d.length) {
    const first = d[0] as { loc?: unknown[]; msg?: string; field?: string; message?: string };
    const where = Array.isArray(first.loc) ? first.loc.filter((x) => x !== "body").join(" → ") : first.field;
    return `${where ? `${where}: ` : ""}${first.msg ?? first.message ?? err.message}`;
  }
  return err.message;
}

/** A labelled select. The label is tied by id, not wrapped round the select: a wrapping
 * label would make the chosen option part of the select's accessible name. */
function Choice({ label, class: cls, children, ...rest }: { label: string; class: string; children: ComponentChildren } & JSX.SelectHTMLAttributes<HTMLSelectElement>) {
  const id = useId();
  return (
    <div class={cls}>
      <label for={id}>{label}</label>
      <select id={id} {...rest}>
        {children}
      </select>
    </div>
  );
}

function ChannelSelect({ value, onChange, label, any }: { value: unknown; onChange: (v: string) => void; label: string; any: string }) {
  return (
    <Choice class="field" label={label} value={String(value ?? "")} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        <option value="">{any}</option>
        {CHANNELS.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
      </Choice>
  );
}

function UserSelect({ value, onChange, label, none, users }: { value: unknown; onChange: (v: number | null) => void; label: string; none: string; users: [number, string][] }) {
  return (
    <Choice class="field" label={label} value={value ? String(value) : ""} onChange={(e) => { const v = (e.target as HTMLSelectElement).value; onChange(v ? Number(v) : null); }}>
        <option value="">{none}</option>
        {users.map(([id, n]) => <option key={id} value={String(id)}>{n}</option>)}
      </Choice>
  );
}

function Text({ label, value, onChange, placeholder, required }: { label: string; value: unknown; onChange: (v: string) => void; placeholder?: string; required?: boolean }) {
  return (
    <label class="field grow">
      <span>{label}</span>
      <input required={required} value={String(value ?? "")} placeholder={placeholder} onInput={(e) => onChange((e.target as HTMLInputElement).value)} />
    </label>
  );
}

/** Typed as text ("hours, open"): the text is kept as typed, the words go to the trigger. */
function Keywords({ value, onChange }: { value: string[]; onChange: (v: string[]) => void }) {
  const [text, setText] = useState(value.join(", "));
  return (
    <label class="field grow">
      <span>Containing any of these words (comma-separated)</span>
      <input
        value={text}
        placeholder="hours, open"
        onInput={(e) => {
          const v = (e.target as HTMLInputElement).value;
          setText(v);
          onChange(keywordsOf(v));
        }}
      />
    </label>
  );
}

function Minutes({ value, onChange, label }: { value: unknown; onChange: (v: number) => void; label: string }) {
  return (
    <label class="field">
      <span>{label}</span>
      <input type="number" min="1" step="1" required value={String(value ?? "")} onInput={(e) => onChange(Number((e.target as HTMLInputElement).value))} />
    </label>
  );
}

function TriggerFields({ trigger: t, onChange, users }: { trigger: Part; onChange: (t: Part) => void; users: [number, string][] }) {
  const set = (k: string, v: unknown) => onChange({ ...t, [k]: v });
  return (
    <div class="field-row wrap">
      <Choice class="field grow workflow-trigger" label="Trigger" value={String(t.type)} onChange={(e) => onChange(newTrigger((e.target as HTMLSelectElement).value))}>
          {TRIGGERS.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
        </Choice>
      {t.type === "message_received" || t.type === "conversation_opened" ? (
        <ChannelSelect label="On channel" any="Any channel" value={t.channel} onChange={(v) => set("channel", v)} />
      ) : null}
      {t.type === "message_received" ? (
        <>
          <Keywords value={(t.keywords as string[]) ?? []} onChange={(v) => set("keywords", v)} />
          <Text label="Or matching the pattern (regular expression)" value={t.pattern} placeholder="order\s*#?\d+" onChange={(v) => set("pattern", v)} />
        </>
      ) : null}
      {t.type === "conversation_assigned" ? <UserSelect label="To" none="Anyone" users={users} value={t.user_id} onChange={(v) => set("user_id", v)} /> : null}
      {t.type === "tag_added" ? <Text label="Tag" required value={t.tag} onChange={(v) => set("tag", v)} /> : null}
      {t.type === "no_agent_reply" || t.type === "no_contact_reply" ? <Minutes label="Minutes" value={t.minutes} onChange={(v) => set("minutes", v)} /> : null}
      {t.type === "schedule" ? (
        <>
          <Text label="Cron (minute hour day month weekday)" required value={t.cron} placeholder="0 9 * * 1" onChange={(v) => set("cron", v)} />
          <Text label="Time zone (the account's if empty)" value={t.timezone} placeholder="Europe/London" onChange={(v) => set("timezone", v)} />
        </>
      ) : null}
    </div>
  );
}

function ConditionFields({ condition: c, onChange, users }: { condition: Part; onChange: (c: Part) => void; users: [number, string][] }) {
  const spec = CONDITION_FIELDS.find((f) => f.field === c.field) ?? CONDITION_FIELDS[0];
  const set = (k: string, v: unknown) => onChange({ ...c, [k]: v });
  const needsValue = !(c.op === "is_set" || c.op === "is_not_set");
  return (
    <div class="field-row wrap grow">
      <Choice class="field" label="What" value={String(c.field)} onChange={(e) => onChange(newCondition((e.target as HTMLSelectElement).value))}>
          {CONDITION_FIELDS.map((f) => <option key={f.field} value={f.field}>{f.label}</option>)}
        </Choice>
      <Choice class="field" label="Test" value={String(c.op)} onChange={(e) => set("op", (e.target as HTMLSelectElement).value)}>
          {spec.ops.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
        </Choice>
      {c.field === "channel" ? (
        <Choice class="field" label="Channel" value={String(c.value)} onChange={(e) => set("value", (e.target as HTMLSelectElement).value)}>
            {CHANNELS.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
          </Choice>
      ) : c.field === "conversation.status" ? (
        <Choice class="field" label="Status" value={String(c.value)} onChange={(e) => set("value", (e.target as HTMLSelectElement).value)}>
            <option value="open">open</option>
            <option value="closed">closed</option>
          </Choice>
      ) : c.field === "conversation.assignee" ? (
        needsValue ? <UserSelect label="User" none="Choose…" users={users} value={c.value} onChange={(v) => set("value", v)} /> : null
      ) : c.field === "office_hours" ? (
        <HoursFields hours={(c.hours as Record<string, string[]>) ?? {}} timezone={c.timezone} onChange={(hours, timezone) => onChange({ ...c, hours, timezone })} />
      ) : needsValue ? (
        <Text label="Value" required value={c.value} onChange={(v) => set("value", v)} />
      ) : null}
    </div>
  );
}

function HoursFields({ hours, timezone, onChange }: { hours: Record<string, string[]>; timezone: unknown; onChange: (h: Record<string, string[]>, tz: string) => void }) {
  const week: Week = weekOf(hours);
  const tz = String(timezone ?? "");
  const setDay = (day: keyof Week, change: Partial<Week[keyof Week]>) => onChange(hoursOf({ ...week, [day]: { ...week[day], ...change } }), tz);
  return (
    <div class="workflow-hours">
      {WEEKDAYS.map(([day, label]) => (
        <div class="workflow-hours-day" key={day}>
          <label class="check">
            <input type="checkbox" checked={week[day].open} aria-label={`Open on ${label}`} onChange={(e) => setDay(day, { open: (e.target as HTMLInputElement).checked })} />
            <span>{label.slice(0, 3)}</span>
          </label>
          <input type="time" disabled={!week[day].open} value={week[day].start} aria-label={`${label} opens at`} onInput={(e) => setDay(day, { start: (e.target as HTMLInputElement).value })} />
          <input type="time" disabled={!week[day].open} value={week[day].end} aria-label={`${label} closes at`} onInput={(e) => setDay(day, { end: (e.target as HTMLInputElement).value })} />
        </div>
      ))}
      <Text label="Time zone (the account's if empty)" value={tz} placeholder="Europe/London" onChange={(v) => onChange(hours, v)} />
    </div>
  );
}

function StepFields({ step: s, onChange, names }: { step: Part; onChange: (s: Part) => void; names: Names & { userList: [number, string][] } }) {
  const set = (k: string, v: unknown) => onChange({ ...s, [k]: v });
  const senders = s.channel ? [...(names.senders.get(String(s.channel)) ?? new Map<number, string>()).entries()] : [];
  return (
    <div class="field-row wrap grow">
      <Choice class="field" label="Do" value={String(s.type)} onChange={(e) => onChange(newStep((e.target as HTMLSelectElement).value))}>
          {STEP_TYPES.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
        </Choice>
      {s.type === "send_message" ? (
        <>
          <ChannelSelect label="By" any="The channel it came on" value={s.channel} onChange={(v) => onChange({ ...s, channel: v, sender_id: null })} />
          {s.channel ? (
            <Choice class="field" label="From" value={s.sender_id ? String(s.sender_id) : ""} onChange={(e) => { const v = (e.target as HTMLSelectElement).value; set("sender_id", v ? Number(v) : null); }}>
                <option value="">The usual one</option>
                {senders.map(([id, label]) => <option key={id} value={String(id)}>{label}</option>)}
              </Choice>
          ) : null}
          {s.channel === "email" ? <Text label="Subject" value={s.subject} onChange={(v) => set("subject", v)} /> : null}
          <div class="field full">
            <label class="field">
              <span>Message</span>
              <textarea required rows={2} value={String(s.body ?? "")} onInput={(e) => set("body", (e.target as HTMLTextAreaElement).value)} />
            </label>
            <small class="muted">{"{{contact.first_name}}"} and {"{{contact.name}}"} are filled in.</small>
          </div>
        </>
      ) : null}
      {s.type === "assign" ? (
        <UserSelect label="To" none="The next agent in turn" users={names.userList} value={s.user_id} onChange={(v) => onChange(v ? { type: "assign", user_id: v } : { type: "assign", round_robin: true })} />
      ) : null}
      {s.type === "tag" || s.type === "untag" ? <Text label="Tag" required value={s.tag} onChange={(v) => set("tag", v)} /> : null}
      {s.type === "create_task" ? (
        <>
          <Text label="Task" required value={s.title} placeholder="Call them back" onChange={(v) => set("title", v)} />
          <UserSelect label="For" none="The assignee (else the workflow's author)" users={names.userList} value={s.user_id} onChange={(v) => set("user_id", v)} />
        </>
      ) : null}
      {s.type === "call_webhook" ? (
        <Choice class="field grow" label="Endpoint" required value={s.endpoint_id ? String(s.endpoint_id) : ""} onChange={(e) => { const v = (e.target as HTMLSelectElement).value; set("endpoint_id", v ? Number(v) : null); }}>
          <option value="">Choose… (Settings → Webhooks adds one)</option>
          {[...(names.endpoints ?? new Map<number, string>()).entries()].map(([id, label]) => <option key={id} value={String(id)}>{label}</option>)}
        </Choice>
      ) : null}
      {s.type === "wait" ? (
        <>
          <Minutes label="Minutes" value={s.minutes} onChange={(v) => set("minutes", v)} />
          <label class="check">
            <input type="checkbox" checked={s.until === "contact_replies"} onChange={(e) => set("until", (e.target as HTMLInputElement).checked ? "contact_replies" : null)} />
            <span>or until the contact replies</span>
          </label>
        </>
      ) : null}
    </div>
  );
}
