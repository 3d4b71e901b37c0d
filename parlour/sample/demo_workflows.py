"""The demo's three workflows, each one a newcomer can set off from the demo website or a
text: an away message on web chat outside office hours, a keyword reply on SMS, and a rule
for threads nobody answered in five minutes."""

from __future__ import annotations

from parlour.db.tx import Tx
from parlour.workflows import service
from parlour.workflows.schemas import WorkflowIn

OPEN = {d: ["07:00", "18:00"] for d in ("mon", "tue", "wed", "thu", "fri")} | {
    "sat": ["08:00", "16:00"],
    "sun": ["08:00", "16:00"],
}

DEMO_WORKFLOWS = [
    {
        "name": "Away message",
        "trigger": {"type": "message_received", "channel": "webchat"},
        "conditions": [{"field": "office_hours", "op": "outside", "hours": OPEN}],
        "steps": [
            {
                "type": "send_message",
                "body": "Thanks for your message, {{contact.first_name}}! The shop is closed "
                "now; we open at 7:00 (8:00 at weekends) and answer first thing.",
            }
        ],
    },
    {
        "name": "Opening hours",
        "trigger": {"type": "message_received", "channel": "sms", "keywords": ["HOURS"]},
        "steps": [
            {
                "type": "send_message",
                "body": "Northwind Coffee, 12 Harbour Lane: Mon to Fri 7:00 to 18:00, "
                "Sat and Sun 8:00 to 16:00.",
            }
        ],
    },
    {
        "name": "Nobody answered",
        "trigger": {"type": "no_agent_reply", "minutes": 5},
        "steps": [{"type": "assign", "round_robin": True}, {"type": "tag", "tag": "waiting"}],
    },
]


async def add_demo_workflows(tx: Tx, *, account_id: int, admin_id: int) -> None:
    """After the demo's threads: a workflow acts only on what happens after it exists."""
    for spec in DEMO_WORKFLOWS:
        body = WorkflowIn.model_validate(spec)
        await service.add_workflow(tx, account_id=account_id, user_id=admin_id, body=body)
