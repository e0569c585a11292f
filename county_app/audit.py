"""The audit log: every write records who did what to which record, and when.

Call ``record`` inside the transaction of the write it describes, so that the
log and the change land together or not at all.
"""
import json

from .models import AuditLog


def record(actor, action, entity, entity_id="", **detail):
    """Append one audit entry; ``detail`` is kept as JSON."""
    return AuditLog.create(
        actor=actor or "system",
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else "",
    )


def recent(*, actor="", action="", limit=200):
    """The latest entries, newest first; ``actor`` matches a part of the name, ``action`` exactly."""
    query = AuditLog.select().order_by(AuditLog.id.desc())
    if actor:
        query = query.where(AuditLog.actor.contains(actor))
    if action:
        query = query.where(AuditLog.action == action)
    return list(query.limit(limit))


def actions():
    """Every action name that occurs in the log, sorted."""
    return [row.action for row in AuditLog.select(AuditLog.action).distinct().order_by(AuditLog.action)]
