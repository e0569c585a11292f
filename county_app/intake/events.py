"""The one way a case changes: ``transition`` checks the move, bumps the version and writes the event.

Case statuses: ``registered`` → (``correction`` →) ``accepted`` → ``concluded``
→ ``delivered``; or ``rejected`` from ``registered`` or ``correction``. Every
other change of a case (a material logged, an item's result, a suspension, a
notice printed, an ID number viewed …) is also an event, with ``from == to``.

Concurrency is optimistic: each write function takes the ``expected_version``
the client saw, and the change itself is ``UPDATE … WHERE id = ? AND version
= ?``, so of two writers working from the same version only one wins; the
other gets Conflict ``stale`` and keeps what was typed.

A write may carry a ``request_key`` (a form's hidden field, the API's
``Idempotency-Key`` header): the first event it writes records the key
(unique), and the same request sent again — a double click, a retry after a
lost answer — finds it in ``load_case`` before the version check. The case is
then marked ``repeat_of`` that event and the write function answers from the
stored state without changing anything: the same change sent twice gives the
same answer once, instead of a "someone else changed it" that nobody did.

Every event also writes its row of the sync outbox (``sync.outbox``) in the
same transaction: the change and its way to the other side commit together.
"""
import json
import re

from peewee import fn

from .. import audit, clock, settings
from ..db import db
from ..integers import NumberError, whole_number
from ..prepared import Prepared, insert_new
from ..record_words import EVENT_ACTIONS as ACTION_LABELS
from ..sync import outbox
from . import visibility
from .errors import Conflict, Invalid
from .records import Case, CaseEvent
from .statuses import CASE_STATUSES as STATUS_LABELS

TRANSITIONS = {
    "registered": {"correction", "accepted", "rejected"},
    "correction": {"accepted", "rejected"},
    "accepted": {"concluded"},
    "concluded": {"delivered"},
    "delivered": set(),
    "rejected": set(),
}


STALE_MESSAGE = "该办件已被其他人修改，请刷新后再操作；您填写的内容已保留"
REQUEST_KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")


def actor_name(actor):
    """The name an event records for ``actor`` (a ``User``, or a plain name such as "cli")."""
    if actor is None:
        return "system"
    return getattr(actor, "username", None) or str(actor)


def load_case(case_no, expected_version=None, *, actor, request_key=None):
    """The case ``case_no`` as ``actor`` may see it; Conflict ``stale`` if it is not at ``expected_version``.

    NotFound, in the same words, whether the number is unknown or the case is
    outside what ``actor`` may see (``visibility``): every read and write of
    one case comes here, so no adapter can show a case the rule hides.
    With a ``request_key`` already recorded on this case by this actor, the
    version is not checked and ``case.repeat_of`` is that event (see
    ``repeated``); else the next event written for the case records the key.
    """
    case = _CASE_BY_NUMBER.first(str(case_no or "").strip())
    if case is None:
        raise visibility.unknown_case(case_no)
    visibility.require_visible(case, actor, asked=case_no)
    case.repeat_of, case.request_key = None, None
    key = checked_key(request_key)
    if key is not None:
        prior = _EVENT_BY_KEY.first(key)
        if prior is not None:
            if prior.case_id != case.id or prior.actor != actor_name(actor):
                raise _key_reused()
            case.repeat_of = prior
            return case
        case.request_key = key
    check_version(case, expected_version)
    return case


def registered_with(key, actor):
    """The case a registration with request ``key`` made, or None; Conflict ``key_reused`` if the key did something else."""
    prior = _EVENT_BY_KEY.first(key) if key else None
    if prior is None:
        return None
    if prior.action != "register" or prior.actor != actor_name(actor):
        raise _key_reused()
    return Case.get_by_id(prior.case_id)


def checked_key(value):
    """A request key as given (8–64 letters, digits, ``-`` or ``_``), None when absent; Invalid otherwise."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not REQUEST_KEY.fullmatch(value):
        message = "请求编号应为 8–64 个字母、数字、“-”或“_”"
        raise Invalid(message, [{"field": "request_key", "message": message}])
    return value


def repeated(case, actions, **same):
    """Whether this request was already carried out (``case.repeat_of``), as one of ``actions`` on the same target.

    Conflict ``key_reused`` when the key was used for another change: a
    client that reuses keys must not get someone else's answer.
    """
    prior = getattr(case, "repeat_of", None)
    if prior is None:
        return False
    detail = json.loads(prior.detail) if prior.detail else {}
    if prior.action not in actions or any(detail.get(key) != value for key, value in same.items()):
        raise _key_reused()
    for field, family in _TARGETS.items():
        if field in same and _changed_since(case, prior, family, field, same[field]):
            raise Conflict(REPEAT_SUPERSEDED, [{"field": "request_key", "message": REPEAT_SUPERSEDED}], code="stale")
    return True


# The changes that act on one paper (``code``) or one item (``matter``) of a case.
_TARGETS = {"code": ("material", "scan"), "matter": ("result", "suspend", "resume")}
REPEAT_SUPERSEDED = "这份表单已经提交过，此后该项又有变更（例如撤销登记），原来的提交不再有效。"


def _changed_since(case, prior, family, field, value):
    """Whether a change of ``family`` on the same target (``field`` = ``value``) came after event ``prior``."""
    later = (CaseEvent.select(CaseEvent.id)
             .where((CaseEvent.case == case.id) & (CaseEvent.id > prior.id) & CaseEvent.action.in_(family)
                    & (fn.json_extract(CaseEvent.detail, f"$.{field}") == value)))
    return later.exists()


def prior_detail(case):
    """The detail of the event a repeated request wrote (``repeated`` was true)."""
    return json.loads(case.repeat_of.detail) if case.repeat_of.detail else {}


def _key_reused():
    message = "这个请求编号已用于另一项操作，请刷新页面后重试"
    return Conflict(message, [{"field": "request_key", "message": message}], code="key_reused")


def check_version(case, expected_version):
    """Conflict ``stale`` unless ``expected_version`` is None or the case's current version."""
    if expected_version is None:
        return
    try:
        expected_version = whole_number(expected_version, "版本号")
    except NumberError as exc:
        raise Invalid(str(exc), [{"field": "version", "message": str(exc)}]) from None
    if expected_version != case.version:
        raise Conflict(STALE_MESSAGE, [{"field": "version", "message": f"当前版本为 {case.version}"}],
                       code="stale")


def wrong_state(case, action):
    """The Conflict ``wrong_state`` for ``action`` on ``case`` in its current status."""
    label = ACTION_LABELS.get(action, action)
    return Conflict(f"办件 {case.case_no} 当前状态为「{STATUS_LABELS.get(case.status, case.status)}」，不能{label}",
                    code="wrong_state")


def require_status(case, action, allowed):
    """Conflict ``wrong_state`` unless the case is in one of the ``allowed`` statuses."""
    if case.status not in allowed:
        raise wrong_state(case, action)


def start(case, actor, **detail):
    """The first event of a newly inserted case ("register", from nothing to its status)."""
    _require_transaction()
    return _event(case, "register", "", case.status, actor, detail)


def transition(case, action, to_status, actor, **detail):
    """Move ``case`` to ``to_status`` (or record a change, when it stays) and write the event.

    Fields changed on ``case`` before the call are written in the same guarded
    UPDATE. Conflict ``wrong_state`` for a move the lifecycle does not allow;
    Conflict ``stale`` when someone else changed the case since it was read.
    Must run inside the caller's ``db.atomic()``.
    """
    _require_transaction()
    from_status = case.status
    if to_status != from_status and to_status not in TRANSITIONS.get(from_status, ()):
        raise wrong_state(case, action)
    changes = {field: getattr(case, field.name) for field in case.dirty_fields
               if field.name not in ("id", "version", "status")}
    if changes:
        changes[Case.status] = to_status
        changes[Case.version] = Case.version + 1
        updated = Case.update(changes).where((Case.id == case.id) & (Case.version == case.version)).execute()
    else:  # the usual change: status and version only
        updated = _BUMP_VERSION.execute(to_status, case.id, case.version)
    if updated != 1:
        raise Conflict(STALE_MESSAGE, code="stale")
    case.status, case.version = to_status, case.version + 1
    case._dirty.clear()  # written above
    return _event(case, action, from_status, to_status, actor, detail)


def note(case, action, actor, **detail):
    """An event that changes nothing of the case (an ID number viewed, a notice printed).

    The version stays, so looking at a case never makes another clerk's next
    write stale. Must run inside the caller's ``db.atomic()``.

    At the hub a case's history holds only what both sides hold (the
    township's acts and the departments', docs/sync.md): a look or a print
    there goes to the 操作日志 instead (``case.<action>``), and None is returned.
    """
    _require_transaction()
    if notes_are_audited():
        audit.record(actor_name(actor), f"case.{action}", "case", case.case_no, **detail)
        return None
    return _event(case, action, case.status, case.status, actor, detail)


def notes_are_audited():
    """Whether a note goes to the 操作日志 instead of the case's history: at the hub (see ``note``)."""
    return settings.is_hub()


def _event(case, action, from_status, to_status, actor, detail):
    wrong = clock.problem()
    if wrong:  # every change is dated by this clock: not while it is wrong (the transaction rolls back)
        raise Conflict(wrong, code="clock_wrong")
    # The request's key goes on its first event only: one request, one key, however many events.
    key, case.request_key = getattr(case, "request_key", None), None
    event = insert_new(CaseEvent(case=case.id, actor=actor_name(actor), action=action, from_status=from_status,
                                 to_status=to_status, request_key=key,
                                 detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else ""))
    outbox.record(case, event)  # for the other side of the exchange, in this same transaction
    return event


_CASE_BY_NUMBER = Prepared(lambda case_no: Case.select().where(Case.case_no == case_no))
_EVENT_BY_KEY = Prepared(lambda key: CaseEvent.select().where(CaseEvent.request_key == key))
_BUMP_VERSION = Prepared(lambda status, case_id, version: Case.update(
    {Case.status: status, Case.version: Case.version + 1}).where((Case.id == case_id) & (Case.version == version)))


def _require_transaction():
    if not db.in_transaction():
        raise RuntimeError("case changes must run inside db.atomic()")
