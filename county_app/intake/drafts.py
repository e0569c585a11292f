"""Intake drafts: what a clerk typed when 登记 was refused, kept on the server for one GET.

The intake page answers a refused registration with a redirect to
``/intake/new?draft=TOKEN`` (redirect-after-post), which shows the form as it
was posted with its problems. So reloading that page, or coming Back to it,
shows what was typed and never posts the old values again; what was corrected
since lives in the browser's own draft (``intake.js``) and is laid over it.
A draft belongs to the user who typed it; once its case is registered it
only says so (Back after 登记 shows the truth, not an empty form). Drafts go
after MAX_AGE (the login's own limit), at the user's next save and nightly.
"""
import json
import secrets
from datetime import timedelta

from ..db import db
from ..models import as_utc, utcnow
from ..prepared import Prepared
from .records import IntakeDraft

MAX_AGE = timedelta(hours=12)
KEEP = 20  # a user's newest drafts kept; a clerk has one or two open at a time


def save(user, pairs, problems, message, token=None):
    """Keep ``pairs`` (the posted fields) with their problems; give the draft's token (``token`` reused if it is the user's)."""
    form, listed = json.dumps(list(pairs), ensure_ascii=False), json.dumps(list(problems), ensure_ascii=False)
    with db.atomic():
        row = _BY_TOKEN.first(token) if isinstance(token, str) and token else None
        if row is None or row.user_id != user.id or row.case_no:
            row = IntakeDraft(token=secrets.token_urlsafe(16), user=user.id)
        row.saved_at, row.form, row.problems, row.message = utcnow(), form, listed, message or ""
        row.save()
        stale = (IntakeDraft.select(IntakeDraft.id).where(IntakeDraft.user == user.id)
                 .order_by(IntakeDraft.saved_at.desc(), IntakeDraft.id.desc()).offset(KEEP))
        IntakeDraft.delete().where(IntakeDraft.id.in_(stale)).execute()
    return row.token


def load(token, user):
    """The user's draft ``token`` as ``{"pairs", "problems", "message", "saved_at", "case_no"}``, or None."""
    row = _BY_TOKEN.first(token) if isinstance(token, str) and 0 < len(token) <= 32 else None
    if row is None or row.user_id != user.id or utcnow() - as_utc(row.saved_at) > MAX_AGE:
        return None
    return {"pairs": [tuple(pair) for pair in json.loads(row.form)], "problems": json.loads(row.problems),
            "message": row.message, "saved_at": as_utc(row.saved_at), "case_no": row.case_no}


def registered(token, user, case_no):
    """The draft was registered as ``case_no``: forget what was typed, remember where it went."""
    if not isinstance(token, str) or not token:
        return
    with db.atomic():
        (IntakeDraft.update(form="[]", problems="[]", message="", case_no=case_no)
         .where((IntakeDraft.token == token) & (IntakeDraft.user == user.id)).execute())


def prune(now=None):
    """Delete drafts older than MAX_AGE; give how many."""
    with db.atomic():
        return IntakeDraft.delete().where(IntakeDraft.saved_at < (now or utcnow()) - MAX_AGE).execute()


_BY_TOKEN = Prepared(lambda token: IntakeDraft.select().where(IntakeDraft.token == token))
