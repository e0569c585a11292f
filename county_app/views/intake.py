"""新办件: the window's intake page, one form from the questionnaire to 「登记」.

The page is one HTML form that always posts back here. ``action=refresh``
(the default button, also what Enter does without JavaScript) re-renders it
with the questions, matters, materials and form fields that the answers so
far call for — and the applicant's kind and the agent section, which decide
the materials that hinge on them (材料 适用条件) — keeping everything typed; ``action=register`` calls
``cases.register_case`` and goes to the case page, or — refused — keeps what
was posted as a draft (``intake/drafts.py``) and redirects to
``GET /intake/new?draft=TOKEN``, which shows it with each error next to its
field: reloading or coming Back never posts old values again. The form's
``request_key`` makes one form one case, however often it is sent.
``intake.js`` does the refresh in the background and checks ID numbers
through ``/intake/check``; the page works without it.
"""
from urllib.parse import urlencode

from flask import Blueprint, flash, jsonify, redirect, render_template, request, session, url_for
from werkzeug.datastructures import MultiDict

from ..api.errors import capped
from ..catalogue import query, vocabulary
from ..catalogue.merging import filled_in
from ..guard import current_user, requires
from ..identity import IdentityError, check_credit_code, check_id_number, check_phone
from ..intake import cases, drafts
from ..intake.errors import Conflict, Invalid, NotFound
from ..intake.facts import agent_named, case_facts
from ..intake.forms import prefill
from ..intake.guide import guide_bundle, guide_matters
from ..text import search_text
from .cases import material_words

bp = Blueprint("intake", __name__, url_prefix="/intake")

PERSON_KEYS = ("name", "id_number", "phone", "address")
COMPANY_KEYS = ("name", "credit_code", "legal_representative", "phone", "address")
AGENT_KEYS = ("name", "id_number", "phone", "relation")
# Domain error fields → the id of the input that shows the message, per applicant kind.
FIELD_IDS = {
    "person": {f"applicant.{key}": f"p-{key}" for key in PERSON_KEYS},
    "company": {f"applicant.{key}": f"c-{key}" for key in COMPANY_KEYS},
}
LABELS = {
    "applicant.name": "申请人姓名（名称）", "applicant.id_number": "身份证号", "applicant.credit_code": "统一社会信用代码",
    "applicant.legal_representative": "法定代表人", "applicant.phone": "手机号", "applicant.address": "地址",
    "applicant.kind": "申请人类型", "agent.name": "代办人姓名", "agent.id_number": "代办人身份证号",
    "agent.phone": "代办人手机号", "agent.relation": "代办人与申请人关系", "matters": "办理事项", "bundle": "一件事",
}
SEX_WORDS = {"male": "男", "female": "女"}
CHECKS = {"id_number": check_id_number, "credit_code": check_credit_code, "phone": check_phone}


@bp.get("/new")
@requires("cases.handle")
def new():
    """The bundle picker (``?q=`` pinyin search), the empty intake form for ``?bundle=`` / ``?matters=``,
    or a refused registration's form with its problems (``?draft=``)."""
    if "draft" in request.args:
        return _draft(request.args["draft"])
    bundle, singles = request.args.get("bundle", "").strip(), request.args.getlist("matters")
    if not bundle and not singles:
        q = search_text(request.args.get("q"))
        version = query.current_version()
        hits = query.search(q) if q and version else []
        return render_template("intake/pick.html", version=version, q=q, hits=hits,
                               bundles=query.list_bundles() if version else [])
    return _render(IntakeState(bundle=bundle, singles=singles), fresh=True)


@bp.post("/new")
@requires("cases.handle")
def submit():
    """Refresh the form for the answers so far, or register the case (``action=register``)."""
    state = IntakeState.from_form(request.form)
    if request.form.get("action") != "register":
        return _render(state)
    try:  # which matters the ticks choose, and only their fields (register_case checks all again)
        guide, applicable, _problems = _guide(state)
    except (Invalid, NotFound):
        pass
    else:
        changed = _unseen_matters(state, applicable)
        if changed:  # the answers were changed with the 登记 itself (no JavaScript): show the new list first
            return _refused(state, [{"field": "matters", "message": changed}], "办理事项随回答有变化，请核对后再登记")
        codes = {f.code for f in guide.fields}
        state.parked.update({code: v for code, v in state.values.items() if code not in codes})
        state.values = {code: v for code, v in state.values.items() if code in codes}
    user = current_user()
    try:
        case = cases.register_case(bundle=state.bundle or None, matters=state.chosen_or_none(),
                                   answers=state.answers, applicant=state.applicant(), agent=state.agent(),
                                   form=state.values, actor=user, request_key=state.request_key)
    except Invalid as exc:
        return _refused(state, exc.details or [{"field": "bundle", "message": exc.message}], exc.message)
    except (Conflict, NotFound) as exc:
        return _refused(state, [], exc.message)
    drafts.registered(state.draft, user, case.case_no)
    # the case page clears the browser's draft and notes which form became this case
    session["intake_registered"] = case.case_no
    session["intake_registered_key"] = state.request_key or ""
    return redirect(url_for("cases.show", case_no=case.case_no))


def _refused(state, problems, message):
    """Keep the posted form as a draft with its problems and redirect to its page (redirect-after-post)."""
    typed = [(key, value) for key, value in request.form.items(multi=True)
             if key not in ("csrf_token", "action", "draft")]
    token = drafts.save(current_user(), typed, problems, message, token=state.draft)
    return redirect(url_for("intake.new", draft=token), 303)


def _draft(token):
    """The page of a refused registration: the form as posted and its problems; once registered, where it went."""
    saved = drafts.load(token, current_user())
    if saved is None:
        flash("这份没有登记的填写内容已不在（超过 12 小时，或不是您填写的），请重新选择一件事", "error")
        return redirect(url_for("intake.new"))
    if saved["case_no"]:
        return render_template("intake/registered.html", case_no=saved["case_no"])
    state = IntakeState.from_form(MultiDict(saved["pairs"]))
    state.draft = token
    return _render(state, problems=saved["problems"], message=saved["message"],
                   saved_at=int(saved["saved_at"].timestamp() * 1000))


@bp.post("/check")
@requires("cases.handle")
def check():
    """Check one identity number as it is typed: ``kind`` id_number|credit_code|phone, ``value`` → JSON."""
    kind, value = request.form.get("kind", ""), request.form.get("value", "")
    checker = CHECKS.get(kind)
    if checker is None:
        return jsonify(ok=False, message="不支持的校验类型"), 400
    try:
        result = checker(value)
    except IdentityError as exc:
        return jsonify(ok=False, message=str(exc))
    return jsonify(ok=True, **_identity_facts(result))


class IntakeState:
    """What the clerk has typed so far, read from the form (or the query string of a new page)."""

    def __init__(self, bundle="", singles=(), answers=None, offered=None, ticked=(), kind=None,
                 person=None, company=None, agent=None, values=None, parked=None, request_key=None, draft=None):
        self.bundle, self.singles = bundle, [code for code in dict.fromkeys(singles) if code]
        self.answers = answers or {}
        self.offered, self.ticked = offered, list(ticked)  # offered None: a new page, tick every matter
        self.kind = kind
        self.person, self.company = person or {}, company or {}
        self.agent_values, self.values = agent or {}, values or {}
        # values of fields no longer on the form (their matter unticked), kept in case it comes back
        self.parked = parked or {}
        self.chosen = None
        self.request_key, self.draft = request_key, draft  # this form's key (one form, one case); its draft

    @classmethod
    def from_form(cls, form):
        """The state posted by the intake form (field names as in ``intake/new.html``)."""
        values, parked = {}, {}
        for key in form:
            items = form.getlist(key)
            # several values only come from the checkboxes of a 多选 field
            if key.startswith("f."):
                values[key[2:]] = items if len(items) > 1 else items[0]
            elif key.startswith("keep."):
                parked[key[5:]] = items if len(items) > 1 else items[0]
        return cls(bundle=form.get("bundle", "").strip(), singles=form.getlist("single"),
                   answers={key[2:]: form[key] for key in form if key.startswith("q.") and form[key]},
                   # absent (a form made elsewhere): the matters shown are not known
                   offered=[code for code in form.getlist("offered") if code] if "offered" in form else None,
                   ticked=form.getlist("matters"),
                   kind=form.get("kind") or None,
                   person={key: form.get(f"p.{key}", "") for key in PERSON_KEYS},
                   company={key: form.get(f"c.{key}", "") for key in COMPANY_KEYS},
                   agent={key: form.get(f"g.{key}", "") for key in AGENT_KEYS}, values=values, parked=parked,
                   request_key=form.get("request_key") or None, draft=form.get("draft") or None)

    def applicant(self):
        """The applicant dict for ``register_case``."""
        source = self.company if self.kind == "company" else self.person
        return {"kind": self.kind or "person", **{key: value.strip() for key, value in source.items()}}

    def agent(self):
        """The agent (帮办代办) dict, or None when nothing was typed for one."""
        typed = {key: value.strip() for key, value in self.agent_values.items()}
        return typed if agent_named(typed) else None

    def chosen_or_none(self):
        """The matters to register: the ticked members of a bundle, or the single matters."""
        return self.chosen if self.bundle else self.singles

    def facts(self):
        """The case's facts as the form now says them: the kind ticked, an agent when one is typed."""
        return case_facts(kind=self.applicant()["kind"] if self.kind in (None, "person", "company") else None,
                          agent=self.agent() is not None)


def _unseen_matters(state, applicable):
    """What changed between the matters the page showed (``offered``) and those the answers now make
    applicable, in words; "" when the clerk saw the list as it is. No matter is added or dropped unseen."""
    if not state.bundle or state.offered is None:
        return ""
    now = {m.code: m.name for m in applicable}
    added = [name for code, name in now.items() if code not in state.offered]
    dropped = [code for code in state.offered if code not in now]
    if not added and not dropped:
        return ""
    names = {m.code: m.name for m in query.get_bundle(state.bundle).members} if dropped else {}
    parts = (["新增 " + "、".join(added)] if added else []) + (
        ["不再办理 " + "、".join(names.get(code, code) for code in dropped)] if dropped else [])
    return "按现在的回答，办理事项" + "；".join(parts) + "。请核对事项和材料后再按「登记」"


def _guide(state):
    """The guide for the state, with the matters to register chosen; gives (guide, all applicable, problems)."""
    facts = state.facts()
    if not state.bundle:
        guide = guide_matters(state.singles, facts=facts)
        state.chosen = [m.code for m in guide.matters]
        return guide, guide.matters, []
    preview = guide_bundle(state.bundle, state.answers, facts=facts)
    offered = state.offered
    state.chosen = [m.code for m in preview.matters
                    if m.required or offered is None or m.code in state.ticked or m.code not in offered]
    if state.chosen == [m.code for m in preview.matters]:
        return preview, preview.matters, []
    try:
        return guide_bundle(state.bundle, state.answers, state.chosen, facts=facts), preview.matters, []
    except Invalid as exc:
        return preview, preview.matters, exc.details


def _render(state, problems=(), message="", status=200, fresh=False, saved_at=None):
    """The intake page for ``state``; ``problems`` ({"field", "message"}) shown next to their fields."""
    version = query.current_version()
    if version is None:
        return render_template("browse/empty.html", title="新办件"), 404
    problems = list(problems)
    detail = query.get_bundle(state.bundle) if state.bundle else None
    if state.kind is None:  # a new page: the bundle's audience, whose materials the list then shows
        state.kind = detail.audience if detail else "person"
    try:
        guide, applicable, choice_problems = _guide(state)
    except NotFound as exc:
        return render_template("error.html", status=404, message=exc.message), 404
    except Invalid as exc:
        if state.bundle and state.answers:  # a tampered answer: start the questionnaire again
            return _render(IntakeState(bundle=state.bundle), problems=exc.details, message=exc.message, status=422)
        return render_template("error.html", status=422, message=exc.message), 422
    problems.extend(choice_problems)
    questions = _questions(detail, guide)
    problems.sort(key=_paper_order(state, guide, questions))
    problems, total = capped(problems)  # the same bound as the API's details
    errors = {}
    for problem in problems:
        key = _field_id(problem["field"], state.kind)
        errors[key] = "；".join(filter(None, [errors.get(key), problem["message"]]))
    summary = [(_field_id(p["field"], state.kind), _named(p, guide, questions)) for p in problems]
    typed = {**state.parked, **state.values}
    codes = {f.code for f in guide.fields}
    return render_template(
        "intake/new.html", version=version, state=state, guide=guide, applicable=applicable,
        questions=questions, errors=errors, summary=summary, message=message, typed=typed,
        prefilled=prefill(guide.fields, state.applicant(), state.agent(), state.values),
        prefill_hints=_prefill_hints(guide.fields, state.kind),
        parked={code: value for code, value in typed.items() if code not in codes and value},
        print_url=_print_url(state, guide), id_facts=_facts(state), unlisted=total - len(problems),
        focus=_focus(summary, questions), fresh=fresh, saved_at=saved_at), status


@bp.context_processor
def _helpers():
    return material_words()


def _focus(summary, questions):
    """The id of the input to start on: the first error, else the first unanswered question, else the applicant."""
    if summary:
        return summary[0][0]
    for question in questions:
        if question["answer"] is None:
            return f"q-{question['code']}"
    return None


def _questions(detail, guide):
    """The questions to show, in catalogue order: those answered (and counted) and those still asked."""
    if detail is None:
        return []
    shown = {q.code: q for q in guide.answered} | {q.code: q for q in guide.questions}
    return [{"code": q.code, "text": q.text, "options": q.options,
             "answer": getattr(shown[q.code], "answer", None)} for q in detail.questions if q.code in shown]


def _paper_order(state, guide, questions):
    """A sort key putting problems in the order of the form on screen, so the first is where to start."""
    sections = ["bundle", "answers", "matters", "applicant", "agent", "form"]
    within = {"answers": [q["code"] for q in questions], "form": [f.code for f in guide.fields],
              "applicant": list(COMPANY_KEYS if state.kind == "company" else PERSON_KEYS),
              "agent": list(AGENT_KEYS)}

    def key(problem):
        head, _, code = problem["field"].partition(".")
        order = within.get(head, [])
        return (sections.index(head) if head in sections else 0, order.index(code) if code in order else 0)

    return key


def _field_id(field, kind):
    """The id of the element showing errors for a domain field name."""
    if field in FIELD_IDS.get(kind, {}):
        return FIELD_IDS[kind][field]
    head, _, code = field.partition(".")
    if not code:  # a problem of the whole section (several unknown codes at once)
        return "matters" if head == "matters" else "top"
    if head == "agent":
        return f"g-{code}"
    if head == "answers":
        return f"q-{code}"
    if head == "form":
        return f"f-{code}"
    return "matters" if head == "matters" else "top"


def _named(problem, guide, questions):
    """A problem's message, led by the field's Chinese name unless the message already starts with it."""
    label, message = _label(problem["field"], guide, questions), problem["message"]
    return message if not label or message.startswith(label) else f"{label}：{message}"


def _label(field, guide, questions):
    """The field's name in Chinese ("" when the message names it: form fields)."""
    head, _, code = field.partition(".")
    if head == "form":
        return ""  # forms.check_form's messages begin with the field's name
    if head == "answers":
        texts = {q["code"]: q["text"] for q in questions}
        return f"情形问题 {code}" + (f"「{texts[code]}」" if code in texts else "")
    return LABELS.get(field, field)


def _prefill_hints(fields, applicant_kind):
    """{field code: 按…自动填写} for the fields of the form that fill themselves in, naming the source
    as the applicant on screen has it (a company's 名称, a person's 姓名)."""
    names = {f.code: f.name for f in fields}
    return {f.code: f"按{vocabulary.prefill_label(f.prefill, names, applicant_kind)}自动填写"
            for f in filled_in(fields)}


def _print_url(state, guide):
    """The 一次性告知单 print route for the answers and matters on screen."""
    params = [("bundle", state.bundle)] if state.bundle else []
    params += list(guide.answers.items()) if guide.bundle else []
    params += [("matters", m.code) for m in guide.matters]
    return f"{request.script_root}/guide/print?" + urlencode(params)


def _identity_facts(result):
    if hasattr(result, "birth_date"):
        return {"value": result.number, "sex": SEX_WORDS[result.sex], "birth_date": result.birth_date.isoformat()}
    return {"value": result}


def _facts(state):
    """Sex and birth date read from the applicant's ID number, when it is valid."""
    try:
        return _identity_facts(check_id_number(state.person.get("id_number", "")))
    except IdentityError:
        return None
