"""办件: the case page, the search and the boards (今日办件, 逾期督办, 差评整改).

Pages only: each reads through ``intake`` (``case_json``, ``find_cases``,
``overdue`` …) and every change goes through the same domain functions as the
API (see ``case_actions``). ``render_case`` is also how an action that failed
shows the case again, with the error next to its form and the typed values kept.
"""
import secrets
from datetime import date
from types import SimpleNamespace

from flask import Blueprint, render_template, request, send_file, session

from .. import audit, record_words
from ..catalogue import vocabulary
from ..guard import current_user, requires
from ..integers import MAX_PAGE, NumberError, whole_number
from ..intake import cases, materials, namesearch, outcomes, scans
from ..intake.casejson import case_json
from ..intake.checks import check_department
from ..intake.errors import IntakeError, Invalid
from ..intake.events import TRANSITIONS
from ..intake.lists import due_soon, find_cases, overdue, today
from ..sync import conflicts as sync_conflicts
from ..intake.statuses import (
    CASE_STATUSES, MATERIAL_STATUSES, NOTICE_KINDS, RATINGS, SUSPENSION_REASONS, WAIVER_LABELS, dated)
from ..notices import printable_kinds
from ..text import search_text

bp = Blueprint("cases", __name__, url_prefix="/cases")

URGENCY_WORDS = {"overdue": "逾期", "due_soon": "即将到期"}
LIST_TABS = ("registered", "correction", "accepted", "concluded", "delivered", "rejected")


def material_words():
    """Template helpers that turn catalogue and status codes into the words on screen."""
    return {
        "necessity_word": lambda code: vocabulary.word_for(vocabulary.NECESSITY, code),
        "form_word": lambda code: vocabulary.word_for(vocabulary.MATERIAL_FORMS, code),
        "waiver_word": lambda code: WAIVER_LABELS.get(code, ""),
        "status_word": lambda code: CASE_STATUSES.get(code, code),
        "urgency_word": lambda code: URGENCY_WORDS.get(code, ""),
        "action_word": record_words.event_word,
        "notice_word": lambda code: NOTICE_KINDS.get(code, code),
        "dated": dated,
        "when": when,
        "notice_url": notice_url,
        "new_request_key": lambda: secrets.token_urlsafe(16),
    }


@bp.context_processor
def _helpers():
    return material_words()


@bp.errorhandler(IntakeError)
def refused(exc):
    """An unknown case (404) or another domain refusal, as the error page in Chinese."""
    return render_template("error.html", status=exc.status, message=exc.message), exc.status


def page_number(raw):
    """``?page=`` of a list page: 1 when absent; Invalid (naming 页码) for anything but 1…MAX_PAGE."""
    if raw is None or not raw.strip():
        return 1
    try:
        return whole_number(raw, "页码", high=MAX_PAGE)
    except NumberError as exc:
        raise Invalid(str(exc), [{"field": "page", "message": str(exc)}]) from None


def when(moment):
    """``2026-09-30T10:05:00+08:00`` → ``2026-09-30 10:05`` (local time as stored)."""
    return moment[:16].replace("T", " ") if moment else ""


def notice_url(case_no, kind, material=None):
    """The printable notice (views of ``notices``): ``/cases/<no>/notices/<kind>[/<material>]``."""
    tail = f"commitment/{material}" if material else kind
    return f"{request.script_root}/cases/{case_no}/notices/{tail}"


@bp.get("")
@requires("cases.view")
def index():
    """办件查询: search by case number or its last digits, any part of a name, ID number or phone; tabs by status;
    ``?today=1`` 今日办件."""
    q, status = search_text(request.args.get("q")), request.args.get("status", "")
    found, problem = {"items": [], "has_more": False, "page": 1, "limited": False}, ""
    if request.args.get("today"):
        found = {"items": today(actor=current_user()), "has_more": False, "page": 1, "limited": False}
    else:
        try:
            found = find_cases(q, status or None, page=page_number(request.args.get("page")), actor=current_user())
        except Invalid as exc:
            problem = exc.message
    return render_template("cases/list.html", q=q, status=status, found=found, problem=problem,
                           scan_limit=namesearch.SCAN_LIMIT,
                           tabs=LIST_TABS, showing_today=bool(request.args.get("today"))), 400 if problem else 200


@bp.get("/overdue")
@requires("cases.view")
def overdue_board():
    """逾期督办: red for items past due, yellow for items due within two working days, with their department."""
    user = current_user()
    return render_template("cases/overdue.html", late=overdue(actor=user), soon=due_soon(actor=user))


@bp.get("/rectifications")
@requires("rectification.manage")
def rectifications():
    """差评整改: the open (or ``?status=closed|all``) rectification tasks, each closable with a note."""
    return render_rectifications()


@bp.post("/rectifications/<int:task_id>/close")
@requires("rectification.manage")
def close_rectification(task_id):
    """Close one rectification task with what was done; an empty note re-renders with the error."""
    resolution = request.form.get("resolution", "")
    try:
        outcomes.close_rectification(task_id, resolution, actor=current_user())
    except IntakeError as exc:
        return render_rectifications(failed=task_id, message=exc.message, typed=resolution, status=exc.status)
    return render_rectifications(done=f"整改任务 {task_id} 已办结")


def render_rectifications(failed=None, message="", typed="", done="", status=200):
    """The rectification list, with the failed task's note kept."""
    shown = request.values.get("status", "open")
    tasks = outcomes.rectifications(None if shown == "all" else shown if shown in ("open", "closed") else "open",
                                    actor=current_user())
    return render_template("cases/rectifications.html", tasks=tasks, shown=shown, failed=failed,
                           message=message, typed=typed, done=done), status


@bp.get("/<case_no>")
@requires("cases.view")
def show(case_no):
    """The case page; ``?after=CODE`` (a paper just logged) or ``?row=CODE`` (one just undone) and
    ``?after=accept`` (a refused 受理) say where the keyboard starts."""
    return render_case(case_no, after=request.args.get("after"), row=request.args.get("row"))


@bp.get("/<case_no>/scans/<sha256>")
@requires("cases.view")
def scan(case_no, sha256):
    """A stored scan of this case, opened in the browser (404 unless the case is visible and holds it)."""
    found = scans.case_scan(case_no, sha256, actor=current_user())
    response = send_file(found.path, mimetype=found.mimetype, download_name=found.filename, conditional=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"  # a PDF's scripts may not reach this site
    response.headers["Cache-Control"] = "private, no-store"  # personal papers: not left in a shared cache
    return response


@bp.post("/<case_no>/reveal-id")
@requires("cases.view")
def reveal(case_no):
    """Show the applicant's full ID number once (logged on the case as 查看完整证件号码)."""
    try:
        number = cases.reveal_id_number(case_no, current_user())
    except IntakeError as exc:
        return render_case(case_no, problem=("top", exc.message), status=exc.status)
    return render_case(case_no, revealed=number)


def render_case(case_no, *, problem=None, typed=None, status=200, revealed=None, focus=None,
                confirm_reject=False, confirm_rating=False, after=None, row=None):
    """The case page; ``problem`` is (form id, message) of an action that failed, ``typed`` its values;
    ``confirm_reject`` / ``confirm_rating`` show the confirmation step of 不予受理 / a 差评."""
    user = current_user()
    case = cases.get_case(case_no, actor=user)
    registered = session.pop("intake_registered", None) == case.case_no  # just registered from the intake page
    data = case_json(case)
    failed = problem[0] if problem else None
    errors = {}
    if problem:
        errors[failed] = problem[1]
    rows = [_material_row(case, m) for m in data["materials"]]
    moves = _allowed_moves(case)
    return render_template(
        "cases/show.html", c=data, rows=rows, items=[_item_row(user, case, i) for i in data["items"]],
        can_do=moves, errors=errors, failed=failed, typed=typed or {},
        revealed=revealed, confirm_reject=confirm_reject, confirm_rating=confirm_rating, ratings=RATINGS,
        rectification_days=outcomes.RECTIFICATION_DAYS, bad_rating=outcomes.BAD_RATING, reasons=SUSPENSION_REASONS,
        prints=printable_kinds(data["status"], data["notices"], data["events"]), newest_notice=_newest_notice(data),
        correction=_latest(data, "correction"), deferral_window=materials.deferral_window(date.today()),
        focus=focus or (None if problem else _start(moves, rows, data, after, row)), clear_draft=registered,
        registered_key=session.pop("intake_registered_key", "") if registered else "",
        events=list(reversed(data["events"])),
        sync_conflicts=sync_conflicts.listed(case.case_no, open_only=False, limit=20), sides=sync_conflicts.SIDES,
        person=_people([case.registered_by] + [e["actor"] for e in data["events"]]
                       + [i["result"]["by"] for i in data["items"] if i["result"]]),
        describe=lambda event: describe(event, {m["code"]: m["name"] for m in data["materials"]},
                                        {i["matter"]: i["name"] for i in data["items"]})), status


def describe(event, material_names, matter_names):
    """One line saying what an event did, in Chinese."""
    d = event["detail"]
    name = material_names.get(d.get("code"), d.get("code", ""))
    matter = matter_names.get(d.get("matter"), d.get("matter", ""))
    action = event["action"]
    complete = d.get("calendar_complete", True)
    if action == "material" and record_words.event_word(action, d) == record_words.MATERIAL_UNDONE:
        return name + (f"（撤下扫描件 {'、'.join(d['scans_detached'])}）" if d.get("scans_detached") else "")
    if action == "material":
        until = f"，须于 {dated(d['until'], complete)} 前补交" if d.get("until") else ""
        return f"{name}：{MATERIAL_STATUSES.get(d.get('status'), d.get('status'))}{until}"
    if action == "scan":
        return f"{name}：扫描件 {d.get('filename') or ''}（{d.get('pages')} 页）"
    if action == "correction":
        missing = "、".join(material_names.get(code, code) for code in d.get("materials", []))
        extra = f"；再次出具理由：{d['override_reason']}" if d.get("override_reason") else ""
        return f"一次性补正告知书 {d.get('notice')}，补正期限 {dated(d.get('deadline'), complete)}；待补：{missing}{extra}"
    if action == "accept":
        return f"受理通知书 {d.get('notice')}，承诺办结日期 {dated(d.get('due_date'), complete)}"
    if action == "reject":
        return f"理由：{d.get('reason')}" + (f"；应向{d['refer_to']}申请" if d.get("refer_to") else "")
    proxy = f"（窗口代录，依{d['on_behalf']}书面决定）" if d.get("on_behalf") else ""
    if action == "result":
        outcome = "准予" if d.get("outcome") == "approved" else "不予"
        return f"{matter}：{outcome} {d.get('result_no') or ''}".strip() + proxy
    if action in ("suspend", "resume"):
        return (f"{matter}：{d.get('reason') or ''}" + (f"（停 {d['working_days']} 个工作日）" if "working_days" in d else "")
                + (f"，办结日期 {dated(d['due_date'], complete)}" if action == "resume" and d.get("due_date") else "")
                + proxy)
    if action == "deliver":
        return "窗口领取" if d.get("method") == "window" else f"邮寄送达，快递单号 {d.get('tracking_no')}"
    if action == "evaluate":
        return RATINGS.get(d.get("rating"), "") + (f"，已转差评整改，期限 {dated(d.get('due_date'), complete)}"
                                                   if d.get("rectification") else "")
    if action == "rectify":
        return f"整改结果：{d.get('resolution')}"
    if action in ("print", "print_withdrawn"):
        return f"{record_words.NOTICE_WORDS.get(d.get('kind'), d.get('kind'))} {d.get('number') or ''}"
    if action == "register":
        return f"{len(d.get('matters', []))} 个事项，目录版本 {d.get('catalogue_version')}"
    return record_words.detail_text(d, {**material_names, **matter_names})


def _allowed_moves(case):
    """Which case-level actions the state allows (the domain checks again when they are posted)."""
    moves = TRANSITIONS.get(case.status, set())
    return SimpleNamespace(accept="accepted" in moves, reject="rejected" in moves, deliver="delivered" in moves,
                           results=case.status == "accepted", evaluate=case.status in ("concluded", "delivered"),
                           override=case.status == "correction")


def _material_row(case, entry):
    """A checklist row: the material and the ways of supplying it that its catalogue entry and state allow."""
    return {**entry, "actions": materials.allowed_statuses(case, SimpleNamespace(**entry))}


def _item_row(user, case, item):
    """An item, with whether this user may record its result (a department only for its own items) and
    whether that is 窗口代录 (a clerk records the department's decision, ``proxy``)."""
    try:
        proxy = bool(check_department(user, SimpleNamespace(department=item["department"], name=item["name"]),
                                      on_behalf=True))
        may = case.status == "accepted"
    except IntakeError:
        may = proxy = False
    return {**item, "may_act": may, "proxy": proxy}


def _people(usernames):
    """A function giving the display name of a username (events record usernames)."""
    names = audit.display_names(usernames)
    return lambda username: names.get(username) or record_words.actor_word(username)


def _newest_notice(data):
    """The notice the clerk most likely prints now (Alt+P): the latest decision, else the receipt."""
    decisions = [n["kind"] for n in data["notices"] if n["kind"] != "receipt"]
    return decisions[-1] if decisions else "receipt"


def _latest(data, kind):
    found = [n for n in data["notices"] if n["kind"] == kind]
    return found[-1] if found else None


def _start(moves, rows, data, after=None, at=None):
    """Where the keyboard starts: after a refused 受理 the correction notice (at the top, with the
    status and the message); a paper just undone; the next paper after the one just logged that
    is not yet supplied, in the list's order (optional ones too); else the first 必要 paper not yet
    supplied, else the next step of the case."""
    if after == "accept" and data["status"] == "correction":
        return "print-correction"
    if moves.accept:
        codes = [row["code"] for row in rows]
        if at in codes and rows[codes.index(at)]["actions"]:
            return f"m-{at}"
        later = rows[codes.index(after) + 1:] if after in codes else []
        for row in later:
            if row["actions"] and not row["satisfied"]:
                return f"m-{row['code']}"
        for row in rows:
            if row["actions"] and row["required"] and not row["satisfied"]:
                return f"m-{row['code']}"
        return "accept-button"
    if moves.deliver:
        return "deliver"
    return None  # not the rating pad: a rating is the applicant's, never a key the clerk typed on (Alt+E)
