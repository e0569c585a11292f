"""一套材料: logging how each material on a case's checklist was supplied.

Each way has its trust level (国办函〔2016〕108号): ``original_verified``
(B, the clerk saw the original), ``copy_received`` (C, copies kept),
``scanned`` (C, see ``scans``), ``exempt`` (A, fetched as an 电子证照 or by
数据共享 — only where the catalogue allows it, with the licence or query
number), ``commitment`` (D, 告知承诺 — only where allowed), ``deferred``
(容缺 materials only, with the date to bring them: after today and at most a
year ahead, by default five working days). ``missing`` undoes a mistake
before acceptance and leaves a clean entry: the scans attached to it are taken
off as well (the event names them), so the same file scanned again is a new
entry, recorded like the first. After acceptance only a deferred or missing material can
still be supplied. Typed values (note, licence number) follow ``text.typed_text``.
"""
from datetime import date, timedelta

from ..catalogue.merging import FETCHED_WAIVERS
from ..catalogue.store import work_calendar
from ..db import db
from ..integers import NumberError, whole_number
from ..models import utcnow
from ..prepared import Prepared
from ..text import quoted, shown
from . import events
from .casejson import material_json
from .checks import check_permission, reason_text
from .errors import Conflict, Invalid, NotFound
from .records import CaseMaterial, MaterialScan
from .statuses import SATISFIED, TRUST_LEVELS, WAIVER_LABELS

DEFERRAL_DAYS = 5
LOGGED_STATUSES = ("original_verified", "copy_received", "exempt", "commitment", "deferred", "missing")
MAX_COPIES = 99
MAX_PAGES = 9999


def log_material(case_no, code, status, *, actor, expected_version=None, copies=None, pages=None,
                 licence_no=None, note=None, deferred_until=None, today=None, request_key=None):
    """Record how material ``code`` of case ``case_no`` was supplied; give the entry as JSON.

    NotFound for a material not on the checklist; Invalid for a status the
    catalogue does not allow for it or bad values; Conflict for the wrong case
    state or a stale ``expected_version``. The answer carries ``case_version``.
    The same ``request_key`` again gives the entry as it stands (``events.repeated``).
    """
    check_permission(actor, "cases.handle")
    today = today or date.today()
    if status == "scanned":
        raise _invalid("status", "扫描件请上传文件（multipart 字段 scan），或从扫描文件夹读取")
    if status not in LOGGED_STATUSES:
        raise _invalid("status", f"材料状态应为 {'、'.join(LOGGED_STATUSES)} 之一，实际为 {quoted(status)}")
    with db.atomic():
        case = events.load_case(case_no, expected_version, actor=actor, request_key=request_key)
        material = checklist_entry(case, code)
        if events.repeated(case, ("material",), code=code, status=status):
            return {**material_json(material), "case_no": case.case_no, "case_version": case.version}
        check_state(case, material, status)
        problems = []
        values = {  # every column of _LOGGED
            "status": status, "trust_level": TRUST_LEVELS.get(status), "copies_received": None,
            "pages": _count(pages, "pages", MAX_PAGES, problems), "licence_no": "",
            "note": _typed(note, "note", problems), "deferred_until": None,
            "logged_at": utcnow(), "logged_by": events.actor_name(actor), "deferred_complete": True,
        }
        copies = _count(copies, "copies", MAX_COPIES, problems)
        _apply_rules(material, values, copies, licence_no, deferred_until, today, problems)
        if problems:
            raise Invalid("；".join(p["message"] for p in problems), problems)
        for key, value in values.items():
            setattr(material, key, value)
        _WRITE_LOGGED.execute(*(values[name] for name in _LOGGED), material.id)
        material._dirty.clear()
        flag = {} if values["deferred_complete"] else {"until": values["deferred_until"], "calendar_complete": False}
        if status == "missing":
            flag["scans_detached"] = _detach_scans(material)
        events.transition(case, "material", case.status, actor, code=code, status=status,
                          trust_level=values["trust_level"], **flag)
    return {**material_json(material), "case_no": case.case_no, "case_version": case.version}


def checklist_entry(case, code):
    """The checklist entry ``code`` of ``case``; NotFound when the case does not ask for it."""
    material = CaseMaterial.entry(case.id, code)
    if material is None:
        raise NotFound(f"办件 {case.case_no} 的材料清单中没有编码为 {shown(code, 40)} 的材料")
    return material


def check_state(case, material, status):
    """Conflict unless ``material`` may take ``status`` in the case's current state."""
    if case.status in ("registered", "correction"):
        return
    supplying_later = material.status in ("deferred", "missing") and status in SATISFIED
    if case.status in ("accepted", "concluded", "delivered") and supplying_later:
        return
    raise events.wrong_state(case, "material")


# How a paper may be supplied beyond handing it in: what its catalogue entry must say.
_CATALOGUE_RULES = {
    "copy_received": lambda m: m.form != "original",
    "exempt": lambda m: m.waiver in FETCHED_WAIVERS,
    "commitment": lambda m: m.waiver == "commitment",
    "deferred": lambda m: m.necessity == "deferrable",
}
STATUSES = ("original_verified", "copy_received", "scanned", "exempt", "commitment", "deferred", "missing")


def catalogue_allows(material, status):
    """Whether the catalogue entry of ``material`` allows supplying it as ``status``."""
    rule = _CATALOGUE_RULES.get(status)
    return rule is None or rule(material)


def allowed_statuses(case, material):
    """The statuses ``material`` (anything with status, form, waiver, necessity) may take now."""
    allowed = []
    for status in STATUSES:
        if status == "missing" and material.status == "missing" or not catalogue_allows(material, status):
            continue
        try:
            check_state(case, material, status)
        except Conflict:
            continue
        allowed.append(status)
    return allowed


def _apply_rules(material, values, copies, licence_no, deferred_until, today, problems):
    """Fill ``values`` for the status, noting what the catalogue does not allow."""
    status, name = values["status"], material.name
    if status == "original_verified":
        values["copies_received"] = copies
    elif status == "copy_received":
        if not catalogue_allows(material, status):
            problems.append({"field": "status", "message": f"「{name}」须核验原件，不能只收复印件"})
        received = copies if copies is not None else material.copies
        if received is not None and received < material.copies:
            problems.append({"field": "copies", "message": f"「{name}」需复印件 {material.copies} 份，实际 {received} 份"})
        values["copies_received"] = received
    elif status == "exempt":
        if not catalogue_allows(material, status):
            problems.append({"field": "status", "message": f"「{name}」目录未规定可通过电子证照或数据共享免提交，"
                                                           "请收取原件或复印件"})
        number = _typed(licence_no, "licence_no", problems)
        if not number and not any(p["field"] == "licence_no" for p in problems):
            problems.append({"field": "licence_no", "message": f"免提交「{name}」须填写电子证照编号或数据共享查询编号"})
        values["licence_no"] = number
    elif status == "commitment":
        if not catalogue_allows(material, status):
            allowed = WAIVER_LABELS.get(material.waiver, "无")
            problems.append({"field": "status", "message": f"「{name}」目录未规定可告知承诺（可用的免提交方式：{allowed}）"})
    elif status == "deferred":
        if not catalogue_allows(material, status):
            problems.append({"field": "status", "message": f"「{name}」不是容缺材料，不能后补"})
        values["trust_level"] = None
        values["deferred_until"], values["deferred_complete"] = _deferral_date(deferred_until, today, problems)
    elif status == "missing":
        values["trust_level"] = None


def default_deferral(today):
    """The ``Due`` a 容缺 material is due by default: five working days after ``today``."""
    return work_calendar().working_days_after(today, DEFERRAL_DAYS)


def deferral_window(today):
    """The first and the last date a 容缺 material may be promised for: tomorrow, and a year from ``today``."""
    try:
        last = today.replace(year=today.year + 1)
    except ValueError:  # 29 February
        last = today.replace(year=today.year + 1, day=28)
    return today + timedelta(days=1), last


def _deferral_date(value, today, problems):
    """(the date to bring a 容缺 material by, whether its calendar was complete): after today and within a
    year (default five working days, counted; a date typed in is the applicant's promise, not counted)."""
    if value is None or value == "":
        due = default_deferral(today)
        return due.day, due.complete
    first, last = deferral_window(today)
    day = value
    if isinstance(value, str):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            day = None
    if not isinstance(day, date) or not first <= day <= last:
        problems.append({"field": "deferred_until", "message": (
            f"后补日期应为 {first.isoformat()} 至 {last.isoformat()} 之间的日期（晚于今天，最迟一年内，"
            f"格式 YYYY-MM-DD），实际为 {quoted(value)}")})
        return None, True
    return day, True


def _detach_scans(material):
    """Take every scan off ``material`` (an undo); give the names of the files taken off.

    The stored file itself stays (its ``Scan`` row is kept): the event history
    still names it by its checksum.
    """
    links = list(MaterialScan.select().where(MaterialScan.material == material.id).order_by(MaterialScan.id))
    if links:
        MaterialScan.delete().where(MaterialScan.id.in_([link.id for link in links])).execute()
    return [link.filename or "扫描件" for link in links]


def _count(value, field, limit, problems):
    if value is None or value == "":
        return None
    label = {"copies": "份数", "pages": "页数"}[field]
    try:
        return whole_number(value, label, low=1, high=limit)
    except NumberError as exc:
        problems.append({"field": field, "message": str(exc)})
        return None


def _typed(value, field, problems):
    """A typed text field of the log (``note``, ``licence_no``) through the one rule; problems noted."""
    try:
        return reason_text(value, field, required=False)
    except Invalid as exc:
        problems.extend(exc.details)
        return ""


def _invalid(field, message):
    return Invalid(message, [{"field": field, "message": message}])


_LOGGED = ("status", "trust_level", "copies_received", "pages", "licence_no", "note", "deferred_until", "logged_at",
           "logged_by", "deferred_complete")
_WRITE_LOGGED = Prepared(lambda *values: CaseMaterial.update(
    {getattr(CaseMaterial, name): value for name, value in zip(_LOGGED, values)}
).where(CaseMaterial.id == values[-1]), arity=len(_LOGGED) + 1)
