"""Write audit events inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from comp.extensions import db
from comp.models import AuditEvent


def record(action: str, actor=None, competition=None, obj=None, **detail: Any) -> AuditEvent:
    """Add one audit event; the caller's transaction commits it with the change it explains."""
    event = AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", None),
        competition_id=getattr(competition, "id", None),
        object_type=type(obj).__name__.lower() if obj is not None else None,
        object_id=getattr(obj, "id", None),
        detail=detail,
    )
    db.session.add(event)
    return event
