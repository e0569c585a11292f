"""Checks shared by the case actions: the item acted on, who may act on it, its state, a reason's text."""
from .. import access
from . import events
from .errors import Conflict, Forbidden, Invalid, NotFound
from .records import CaseItem
from .statuses import ITEM_STATUSES

REASON_MAX_LENGTH = 1000


def case_item(case, matter_code):
    """The item of ``case`` for ``matter_code``; NotFound if the case has no such matter."""
    item = CaseItem.get_or_none((CaseItem.case == case.id) & (CaseItem.matter_code == matter_code))
    if item is None:
        raise NotFound(f"办件 {case.case_no} 中没有编码为 {matter_code} 的事项")
    return item


def check_permission(actor, permission, message=None):
    """Forbidden unless ``actor``'s role has ``permission`` (a plain name is the trusted command line).

    The domain functions call this for every action whose permission depends
    on what is asked (an override reason), so that the API, the pages and the
    command line cannot decide differently.
    """
    role = getattr(actor, "role", None)
    if role is not None and not access.allowed(role, permission):
        raise Forbidden(message or f"当前角色（{access.ROLES.get(role, role)}）无权进行此操作")


def check_department(actor, item):
    """Forbidden unless ``actor`` may act on ``item``: a department user only on its own department's items."""
    role = getattr(actor, "role", None)
    if role is None:
        return  # a plain name: the trusted command line
    if not access.allowed(role, "cases.result"):
        raise Forbidden(f"当前角色（{access.ROLES.get(role, role)}）无权办理事项")
    if role == "department" and actor.department != item.department:
        raise Forbidden(f"事项「{item.name}」由{item.department}办理，您（{actor.department}）无权操作")


def require_item(item, action, allowed):
    """Conflict ``wrong_state`` unless ``item`` is in one of the ``allowed`` item statuses."""
    if item.status not in allowed:
        label = events.ACTION_LABELS.get(action, action)
        raise Conflict(f"事项「{item.name}」当前为「{ITEM_STATUSES.get(item.status, item.status)}」，不能{label}",
                       code="wrong_state")


def reason_text(value, field, *, required):
    """``value`` trimmed, as the text of a reason or note; Invalid (on ``field``) if not text or too long."""
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value.strip()) > REASON_MAX_LENGTH:
        message = f"应为不超过 {REASON_MAX_LENGTH} 字的文字"
        raise Invalid(message, [{"field": field, "message": message}])
    if required and not value.strip():
        message = "请填写理由"
        raise Invalid(message, [{"field": field, "message": message}])
    return value.strip()
