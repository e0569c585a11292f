"""Login sessions kept on the server, so that they can be ended. No Flask.

The browser's (signed) cookie holds a random session id; the database keeps
only its SHA-256 with the user, the address and times. A session works
while its row is not ended, is younger than MAX_AGE (one working day) and
its user is active. Logging out ends that session; a password change ends
the user's other sessions; a reset, a deactivation or a role change ends all
of them (accounts.py). A copied cookie is worth nothing once its session
has ended.

Each logged-in request looks its session up (a Prepared query) and notes
when it was last seen at most once per TOUCH_INTERVAL. Ended and expired
rows are deleted at the user's next login and by the nightly maintenance.
"""
import hashlib
import secrets
from datetime import timedelta

from .db import db, note_use
from .models import LoginSession, User, as_utc
from .prepared import Prepared

MAX_AGE = timedelta(hours=12)  # one working day, then log in again
TOUCH_INTERVAL = timedelta(minutes=5)

_BY_HASH = Prepared(lambda token_hash: LoginSession.select().where(LoginSession.token_hash == token_hash))
_TOUCH = Prepared(lambda at, session_id: LoginSession.update(last_seen_at=at).where(LoginSession.id == session_id))


def _hash(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start(user, *, source="", now=None):
    """A new session for ``user`` (whose password was just checked); its id, for the cookie only."""
    now = as_utc(now)
    token = secrets.token_urlsafe(32)
    with db.atomic():
        # The user's own finished rows go now, so that they do not wait for the night.
        (LoginSession.delete()
         .where(LoginSession.user == user.id,
                LoginSession.ended_at.is_null(False) | (LoginSession.created_at < now - MAX_AGE))
         .execute())
        LoginSession.create(user=user.id, token_hash=_hash(token), source=(source or "")[:64], created_at=now,
                            last_seen_at=now)
    return token


def find(token, now=None):
    """``(session row, user)`` for a session id that still works, else None."""
    if not isinstance(token, str) or not token or len(token) > 100:
        return None
    row = _BY_HASH.first(_hash(token))
    now = as_utc(now)
    if row is None or row.ended_at is not None or now - as_utc(row.created_at) > MAX_AGE:
        return None
    user = User.by_id(row.user_id)
    if user is None or not user.active:
        return None
    if now - as_utc(row.last_seen_at) >= TOUCH_INTERVAL:
        note_use(lambda: _TOUCH.execute(LoginSession.last_seen_at.db_value(now), row.id))
    return row, user


def end(token, now=None):
    """End the session with this id (logging out); nothing if there is none."""
    if not isinstance(token, str) or not token:
        return 0
    with db.atomic():
        return (LoginSession.update(ended_at=as_utc(now))
                .where(LoginSession.token_hash == _hash(token), LoginSession.ended_at.is_null())
                .execute())


def end_all(user, *, keep=None, now=None):
    """End every open session of ``user`` but the one with id ``keep``; inside the caller's transaction."""
    query = LoginSession.update(ended_at=as_utc(now)).where(LoginSession.user == user.id,
                                                          LoginSession.ended_at.is_null())
    if keep:
        query = query.where(LoginSession.token_hash != _hash(keep))
    return query.execute()


def open_sessions(user, now=None):
    """The user's sessions that still work, newest first."""
    now = as_utc(now)
    return list(LoginSession.select()
                .where(LoginSession.user == user.id, LoginSession.ended_at.is_null(),
                       LoginSession.created_at >= now - MAX_AGE)
                .order_by(LoginSession.id.desc()))


def prune(now=None):
    """Delete ended and expired sessions (nightly maintenance); the number deleted."""
    now = as_utc(now)
    with db.atomic():
        return (LoginSession.delete()
                .where(LoginSession.ended_at.is_null(False) | (LoginSession.created_at < now - MAX_AGE))
                .execute())
