"""Checks shared by the case actions: the item acted on, who may act on it, its state, a reason's text."""
from .. import access, settings
from ..text import TextError, shown, typed_text
from . import events
from .errors import Conflict, Forbidden, Invalid, NotFound
from .records import CaseItem
from .statuses import ITEM_STATUSES

REASON_MAX_LENGTH = 1000
# The typed fields of the case actions: field → (its name on screen, most characters, several lines)
TYPED_FIELDS = {
    "reason": ("理由", REASON_MAX_LENGTH, True),
    "override_reason": ("再次出具补正告知书的理由", REASON_MAX_LENGTH, True),
    "note": ("备注", REASON_MAX_LENGTH, True),
    "comment": ("评价意见", REASON_MAX_LENGTH, True),
    "resolution": ("整改结果", REASON_MAX_LENGTH, True),
    "result_no": ("结果文号（证照编号）", 100, False),
    "tracking_no": ("快递单号", 64, False),
    "licence_no": ("电子证照编号或数据共享查询编号", 100, False),
    "refer_to": ("「应向何机关申请」", 100, False),
}


def case_item(case, matter_code):
    """The item of ``case`` for ``matter_code``; NotFound if the case has no such matter."""
    item = CaseItem.get_or_none((CaseItem.case == case.id) & (CaseItem.matter_code == matter_code))
    if item is None:
        raise NotFound(f"办件 {case.case_no} 中没有编码为 {shown(matter_code, 40)} 的事项")
    return item


def check_permission(actor, permission, message=None):
    """Forbidden unless ``actor``'s role has ``permission`` (a plain name is the trusted command line).

    The domain functions call this for every action whose permission depends
    on what is asked (an override reason), and for the window's actions, so
    that the API, the pages and the command line cannot decide differently.
    At the county hub the window's actions are refused whoever asks, saying
    that the township owns them (``access.AT_HUB``).
    """
    role = getattr(actor, "role", None)
    if role is None:
        return
    hub = settings.is_hub()
    if not access.allowed(role, permission, at_hub=hub):
        if hub and permission in access.AT_HUB:
            raise Forbidden(access.refusal(role, permission, at_hub=True))
        raise Forbidden(message or access.refusal(role, permission))


def check_department(actor, item, on_behalf=False):
    """The detail an item's result or suspension by ``actor`` records; Forbidden unless ``actor`` may act on ``item``.

    A department user acts on its own department's items only, and records
    them as its own. Anyone else allowed to (the window's clerk, at a
    township only) records a department's decision handed over on paper:
    窗口代录, which the clerk must say (``on_behalf``, else Invalid), and the
    event names the department (``{"on_behalf": department}``), so that
    the case never shows the clerk's entry as the department's own act.
    """
    role = getattr(actor, "role", None)
    if role is None:
        return {}  # a plain name: the trusted command line
    check_permission(actor, "cases.result", f"当前角色（{access.ROLES.get(role, role)}）无权办理事项")
    if role == "department":
        if actor.department != item.department:
            raise Forbidden(f"事项「{item.name}」由{item.department}办理，您（{actor.department}）无权操作")
        return {}
    if on_behalf is not True:
        message = (f"事项「{item.name}」由{item.department}办理：窗口人员只能依该部门的书面决定代为录入（窗口代录），"
                   f"请勾选「依{item.department}书面决定代录」")
        raise Invalid(message, [{"field": "on_behalf", "message": message}])
    return {"on_behalf": item.department}


def require_item(item, action, allowed):
    """Conflict ``wrong_state`` unless ``item`` is in one of the ``allowed`` item statuses."""
    if item.status not in allowed:
        label = events.ACTION_LABELS.get(action, action)
        raise Conflict(f"事项「{item.name}」当前为「{ITEM_STATUSES.get(item.status, item.status)}」，不能{label}",
                       code="wrong_state")


def reason_text(value, field, *, required):
    """``value`` as the text typed into ``field`` (a reason, a note, a number …; see TYPED_FIELDS), trimmed.

    Goes through ``text.typed_text``, the one rule for typed text; Invalid on
    ``field`` when it is not text, holds a control or surrogate character, is
    too long, or is blank while ``required``.
    """
    label, max_length, multiline = TYPED_FIELDS[field]
    try:
        text = typed_text(value, label, max_length=max_length, multiline=multiline)
    except TextError as exc:
        raise Invalid(str(exc), [{"field": field, "message": str(exc)}]) from None
    if required and not text:
        message = f"请填写{label}"
        raise Invalid(message, [{"field": field, "message": message}])
    return text
