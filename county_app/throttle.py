"""The login throttle: failed logins counted per client address and per (address, typed name). No Flask.

- PAIR_LIMIT failures for one name from one address (in WINDOW) hold that
  name back at that address for LOCK_SECONDS: someone guessing the
  administrator's password from one PC does not lock the administrator out
  at another.
- ADDRESS_LIMIT failures from one address, whatever the names, hold that
  address back for LOCK_SECONDS: guessing names or spreading guesses over
  many accounts is slowed too, and one address can add only so many rows.
- A name that is no user's is counted exactly like a user's, so the answers
  do not tell which names exist. Rows are keyed by a keyed hash (HMAC) of
  the address and the typed name: what was typed into the name box (a
  password, sometimes) is never stored.
- The state stays small: rows idle for WINDOW (and no longer holding
  anything back) are deleted with every failure and by the nightly
  maintenance, and never more than MAX_ROWS are kept.
- Only locks are written to the audit log (a user's name held back at an
  address, an address held back), not every failure: a flood of wrong names
  cannot grow the log faster than one entry per address and lock.

The HMAC key is the application's secret key (``use_key``, from create_app),
so that counts survive a restart; before that, a random key of this process.
"""
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from . import audit
from .db import db
from .models import LoginThrottle, User
from .prepared import Prepared

PAIR_LIMIT = 5
ADDRESS_LIMIT = 20
LOCK_SECONDS = 5 * 60
WINDOW = 15 * 60
MAX_ROWS = 10_000

_BY_KEY = Prepared(lambda key: LoginThrottle.select().where(LoginThrottle.key == key))
_key = secrets.token_bytes(32)


def use_key(secret):
    """Key the hashes with ``secret`` (the application's secret key) from now on."""
    global _key
    material = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    _key = hmac.new(material, b"county_app login throttle", hashlib.sha256).digest()


@dataclass(frozen=True)
class Attempt:
    """One login attempt's counters: its address's and its (address, name) pair's keys, and its name's."""

    address: str
    address_key: str
    pair_key: str
    name_key: str

    @classmethod
    def of(cls, address, name):
        address = (address or "")[:64]
        return cls(address, _hash("address", address), _hash("pair", address, name), _name_key(name))


def _name_key(name):
    """The keyed hash of a typed name: how a user's holds are found (also those counted before the user existed)."""
    return _hash("name", name)


def _hash(*parts):
    return hmac.new(_key, "\x00".join(parts).encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def _now(now):
    return int(now if now is not None else time.time())


def _holds(row, now):
    return row is not None and row.locked_until is not None and row.locked_until > now


def is_held(attempt, now=None):
    """Whether the attempt's address, or its name at that address, is held back at ``now``."""
    now = _now(now)
    return _holds(_BY_KEY.first(attempt.address_key), now) or _holds(_BY_KEY.first(attempt.pair_key), now)


def record_failure(attempt, user=None, now=None):
    """Count a failed attempt (``user``: the user the name belongs to, if any), in one short transaction."""
    now = _now(now)
    with db.atomic():
        address_row = _BY_KEY.first(attempt.address_key)
        if _holds(address_row, now):
            return  # held back already: counting more changes nothing, so write nothing
        if _count(address_row, attempt.address_key, attempt.address, None, ADDRESS_LIMIT, now):
            audit.record("anonymous", "login.throttled", "address", attempt.address,
                         minutes=LOCK_SECONDS // 60, failures=ADDRESS_LIMIT)
        pair_row = _BY_KEY.first(attempt.pair_key)
        if not _holds(pair_row, now):
            if _count(pair_row, attempt.pair_key, attempt.address, attempt.name_key, PAIR_LIMIT, now) \
                    and user is not None:
                audit.record("anonymous", "login.locked", "user", user.username, source=attempt.address,
                             minutes=LOCK_SECONDS // 60, failures=PAIR_LIMIT)
        _prune(now)


def _count(row, key, address, name_key, limit, now):
    """Add one failure to ``row`` (created if None); True when this one starts a hold."""
    if row is None:
        row = LoginThrottle(key=key, address=address, name_key=name_key, failures=0,
                            first_failure_at=now, last_failure_at=now)
    elif row.first_failure_at < now - WINDOW or row.locked_until is not None:
        row.failures, row.first_failure_at, row.locked_until = 0, now, None  # a new run of failures
    row.failures += 1
    row.last_failure_at = now
    held = row.failures >= limit
    if held:
        row.failures, row.locked_until = 0, now + LOCK_SECONDS
    if row.id is None:
        row.save(force_insert=True)
        # Rows are numbered in order: those MAX_ROWS behind the newest are the oldest.
        LoginThrottle.delete().where(LoginThrottle.id <= row.id - MAX_ROWS).execute()
    else:
        row.save()
    return held


def forget(attempt):
    """A successful login: its name at its address starts afresh (the address's count stays)."""
    LoginThrottle.delete().where(LoginThrottle.key == attempt.pair_key).execute()


def lift(user):
    """Lift every hold and count on ``user``'s name, at every address (inside the caller's transaction)."""
    return LoginThrottle.delete().where(LoginThrottle.name_key == _name_key(user.username)).execute()


def lift_addresses():
    """Lift every address's hold (inside the caller's transaction): the way back at the PC itself.

    An address held back after ADDRESS_LIMIT failures of any names refuses
    every name there, the right password too; ``user reset-password`` run on
    the PC (which only the PC's owner can do) must get the user back in.
    """
    return LoginThrottle.delete().where(LoginThrottle.name_key.is_null()).execute()


def _prune(now):
    return (LoginThrottle.delete()
            .where(LoginThrottle.last_failure_at < now - WINDOW,
                   LoginThrottle.locked_until.is_null() | (LoginThrottle.locked_until <= now))
            .execute())


def prune(now=None):
    """Delete idle rows (nightly maintenance); the number deleted."""
    with db.atomic():
        return _prune(_now(now))


def holds_on(user, now=None):
    """``[(address, until)]``: where ``user``'s name is held back now, ``until`` an aware UTC datetime."""
    now = _now(now)
    rows = LoginThrottle.select().where(LoginThrottle.name_key == _name_key(user.username),
                                        LoginThrottle.locked_until > now)
    return sorted((row.address, datetime.fromtimestamp(row.locked_until, timezone.utc)) for row in rows)


def held_users(now=None):
    """The ids of users whose name is held back at some address now."""
    now = _now(now)
    held = {row.name_key for row in LoginThrottle.select(LoginThrottle.name_key).distinct()
            .where(LoginThrottle.name_key.is_null(False), LoginThrottle.locked_until > now)}
    if not held:
        return set()
    return {user.id for user in User.select(User.id, User.username) if _name_key(user.username) in held}

