"""The audit log: every write records who did what to which record, and when.

Call ``record`` inside the transaction of the write it describes, so that the
log and the change land together or not at all.
"""
import json

from . import record_words
from .models import AuditLog, User


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


def display_names(usernames):
    """{username: display name} of those of ``usernames`` that are users with a display name."""
    return {u.username: u.display_name for u in User.select(User.username, User.display_name)
            .where(User.username.in_(list(set(usernames))) & (User.display_name != ""))}


def readable(entry, display_names=None):
    """What an entry says, in Chinese words (``record_words``): who, its action, the record it is about, its detail.

    ``display_names``: {username: display name} of the users named, when the caller has them.
    """
    try:
        detail = json.loads(entry.detail) if entry.detail else {}
    except ValueError:  # written by this module as JSON; anything else is shown as it is
        detail = entry.detail
    return {"actor": record_words.actor_word(entry.actor or "", display_names),
            "action": record_words.audit_word(entry.action),
            "entity": record_words.entity_word(entry.entity),
            "entity_id": record_words.entity_id_word(entry.entity, entry.entity_id),
            "detail": record_words.detail_text(detail)}
