"""Every part's tables in one metadata, complete: what Alembic compares the migrations
against. It lives beside the wiring (app.py), not in db/, since it names every part and
every channel."""

from parlour.accounts import models as accounts_models
from parlour.channels.email import models as email_models
from parlour.channels.sms import models as sms_models
from parlour.channels.webchat import models as webchat_models
from parlour.contacts import models as contacts_models
from parlour.conversations import models as conversations_models
from parlour.db.base import Base
from parlour.files import models as files_models
from parlour.idempotency import models as idempotency_models
from parlour.outbox import models as outbox_models
from parlour.realtime import models as realtime_models
from parlour.tasks import models as tasks_models
from parlour.webhooks import models as webhooks_models
from parlour.workflows import models as workflows_models

__all__ = [
    "Base",
    "accounts_models",
    "contacts_models",
    "conversations_models",
    "email_models",
    "files_models",
    "idempotency_models",
    "outbox_models",
    "realtime_models",
    "sms_models",
    "tasks_models",
    "webchat_models",
    "webhooks_models",
    "workflows_models",
]
