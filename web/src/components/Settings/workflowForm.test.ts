import { describe, expect, it } from "vitest";
import { cleaned, describeStep, describeTrigger, keywordsOf, newCondition, newStep, newTrigger, type Names } from "./workflowForm";

const names: Names = {
  users: new Map([[2, "Sam Agent"]]),
  senders: new Map([["sms", new Map([[5, "Main (+14155550100)"]])]]),
};

describe("the workflow editor's sentences", () => {
  it("sums up a trigger as a person would say it", () => {
    expect(describeTrigger({ type: "message_received", channel: "sms", keywords: ["HOURS", "open"] }, names)).toBe(
      "When a contact's message arrives on SMS containing “HOURS” or “open”",
    );
    expect(describeTrigger({ type: "no_agent_reply", minutes: 5 }, names)).toBe("When no agent has replied for 5 minutes");
    expect(describeTrigger({ type: "no_contact_reply", minutes: 1440 }, names)).toBe("When the contact has not replied for a day");
    expect(describeTrigger({ type: "conversation_assigned", user_id: 2 }, names)).toBe("When a conversation is assigned to Sam Agent");
  });
  it("sums up steps with the names of users and senders", () => {
    expect(describeStep({ type: "send_message", channel: "sms", sender_id: 5, body: "Hi" }, names)).toBe(
      "Send “Hi” by SMS from Main (+14155550100)",
    );
    expect(describeStep({ type: "assign", round_robin: true }, names)).toBe("Assign to the next agent in turn");
    expect(describeStep({ type: "wait", minutes: 120, until: "contact_replies" }, names)).toBe(
      "Wait 2 hours or until the contact replies",
    );
  });
});

describe("the body the API takes", () => {
  it("leaves out what was left empty, and assigns one way only", () => {
    expect(cleaned({ type: "message_received", channel: "", keywords: [], pattern: "" })).toEqual({ type: "message_received" });
    expect(cleaned({ type: "assign", user_id: 2, round_robin: true })).toEqual({ type: "assign", user_id: 2 });
    expect(cleaned({ type: "assign", user_id: null })).toEqual({ type: "assign", round_robin: true });
    expect(cleaned({ type: "wait", minutes: 5, until: null })).toEqual({ type: "wait", minutes: 5 });
  });
  it("reads keywords typed with commas", () => {
    expect(keywordsOf(" hours, open times ,, ")).toEqual(["hours", "open times"]);
  });
  it("starts each new part with what the API needs", () => {
    expect(newTrigger("schedule")).toEqual({ type: "schedule", cron: "0 9 * * 1" });
    expect(newStep("wait")).toEqual({ type: "wait", minutes: 60 });
    expect(newCondition("channel")).toEqual({ field: "channel", op: "is", value: "sms" });
  });
});
