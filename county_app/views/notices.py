"""Printable A4 notices: the five notices of a case, the 告知承诺书 and the 一次性告知单.

Every page opens the browser's print dialog on load (``?noprint=1`` turns that
off, ``?large=1`` prints in large type). Showing a notice writes nothing, nor
does switching it to large type. Just before a case notice goes to paper
(``beforeprint``) the page asks how often it was printed so far (a GET,
reading only) to put the 补打 mark on a reprint. A browser raises the same
events for a print and for a cancelled dialog, so when the dialog closes the
page asks the clerk 「打印出来了吗？」, and only 已打印 posts the print to
``…/prints``; a print answered so by mistake is taken back by a post to
``…/prints/withdraw`` (logged too). Login session
(posts carry the CSRF token) or bearer token, as every page.

The case's 一次性告知单 (``/cases/<no>/notices/guide``) is printed again from
what the case recorded; it is not numbered and its prints are not counted.
"""

import segno
from flask import Blueprint, jsonify, render_template, request, url_for
from markupsafe import Markup

from .. import notice_guide, notices
from ..api.errors import json_error
from ..guard import back_link, current_user, requires
from ..integers import NumberError, whole_number
from ..intake.errors import IntakeError, Invalid
from ..intake.guide import guide_bundle, guide_matters

bp = Blueprint("notices", __name__)

# Query parameters of /guide/print that are not answers to the bundle's questions.
GUIDE_PARAMETERS = frozenset({"bundle", "matters", "large", "noprint"})


@bp.errorhandler(IntakeError)
def _refused(exc):
    """An unknown case (404), a notice the case's state does not allow (409), a bad guide (422): in Chinese."""
    return render_template("error.html", status=exc.status, message=exc.message), exc.status


@bp.get("/cases/<case_no>/notices/<kind>")
@requires("cases.view")
def case_notice(case_no, kind):
    """收件回执 / 受理通知书 / 一次性补正告知书 / 不予受理通知书 / 办结通知书 of one case (printing is logged apart)."""
    content = notices.notice_page(case_no, kind, actor=current_user())
    return _page(f"notices/{kind}.html", content,
                 record=url_for("notices.record_print", case_no=content["case_no"], kind=kind))


@bp.get("/cases/<case_no>/notices/commitment/<material_code>")
@requires("cases.view")
def commitment(case_no, material_code):
    """The 告知承诺书 for one material of the case (where the catalogue allows 告知承诺)."""
    content = notices.commitment_page(case_no, material_code, actor=current_user())
    return _page("notices/commitment.html", content,
                 record=url_for("notices.record_commitment_print", case_no=content["case_no"],
                                material_code=material_code))


@bp.get("/cases/<case_no>/notices/guide")
@requires("cases.view")
def case_guide(case_no):
    """The case's 一次性告知单 again, from its recorded answers, matters and applicant (no questions asked)."""
    case, guide = notice_guide.case_guide(case_no, actor=current_user())
    content = _guide_content(guide)
    content["case_no"] = case.case_no
    return _page("notices/guide.html", content, qr=False)


@bp.get("/cases/<case_no>/notices/<kind>/prints")
@requires("cases.view")
def print_count(case_no, kind):
    """How often a case notice was printed so far (read just before a print): ``{"number", "print_count"}``."""
    return _printed(lambda: notices.prints_of(case_no, kind, actor=current_user()))


@bp.get("/cases/<case_no>/notices/commitment/<material_code>/prints")
@requires("cases.view")
def commitment_print_count(case_no, material_code):
    """As ``print_count``, for a 告知承诺书."""
    return _printed(lambda: notices.prints_of(case_no, "commitment", actor=current_user(), material=material_code))


@bp.post("/cases/<case_no>/notices/<kind>/prints")
@requires("cases.view")
def record_print(case_no, kind):
    """Log one print of a case notice, posted as its print dialog closes: ``{"number", "print_count", "reprint"}``."""
    return _printed(lambda: notices.record_print(case_no, kind, actor=current_user()))


@bp.post("/cases/<case_no>/notices/commitment/<material_code>/prints")
@requires("cases.view")
def record_commitment_print(case_no, material_code):
    """Log one print of a 告知承诺书, as ``record_print``."""
    return _printed(lambda: notices.record_print(case_no, "commitment", actor=current_user(),
                                                 material=material_code))


@bp.post("/cases/<case_no>/notices/<kind>/prints/withdraw")
@requires("cases.view")
def withdraw_print(case_no, kind):
    """Take back one's latest print of a case notice (``{"print_count": N}``): the dialog printed nothing."""
    return _printed(lambda: notices.withdraw_print(case_no, kind, actor=current_user(), count=_count()))


@bp.post("/cases/<case_no>/notices/commitment/<material_code>/prints/withdraw")
@requires("cases.view")
def withdraw_commitment_print(case_no, material_code):
    """As ``withdraw_print``, for a 告知承诺书."""
    return _printed(lambda: notices.withdraw_print(case_no, "commitment", actor=current_user(), count=_count(),
                                                   material=material_code))


def _count():
    """The print a withdrawal names (``print_count`` of the JSON body); Invalid naming the field otherwise."""
    body = request.get_json(silent=True)
    try:
        return whole_number(body.get("print_count") if isinstance(body, dict) else None, "print_count")
    except NumberError as exc:
        raise Invalid(str(exc), [{"field": "print_count", "message": str(exc)}]) from None


def _printed(run):
    """The print logged, as JSON for the page's script; a refusal as a JSON error in Chinese."""
    try:
        return jsonify(run())
    except IntakeError as exc:
        return json_error(exc.status, exc.code, exc.message, exc.details)


@bp.get("/guide/print")
@requires("catalogue.browse")
def guide_print():
    """The 一次性告知单: ``?bundle=CODE&Q1=是&…`` (``&matters=A,B`` to choose) or ``?matters=A,B`` alone."""
    bundle = request.args.get("bundle", "").strip()
    chosen = [code.strip() for value in request.args.getlist("matters") for code in value.split(",") if code.strip()]
    answers = {key: value for key, value in request.args.items() if key not in GUIDE_PARAMETERS}
    if bundle:
        guide = guide_bundle(bundle, answers, chosen or None)
    elif chosen:
        guide = guide_matters(chosen)
    else:
        raise Invalid("请指定要打印告知单的一件事（bundle）或事项（matters）。")
    return _page("notices/guide.html", _guide_content(guide), qr=False)


def _guide_content(guide):
    """The 一次性告知单 of ``guide``, signed by the user printing it."""
    centre = notices.centre_info()
    content = notice_guide.one_time_notice(guide, guide.answers, centre)
    content["clerk"] = notices.clerk_info(current_user().username, centre)
    return content


def _page(template, content, *, qr=True, record=None):
    """Render a notice with the print switches, the back link, the case number's QR code and where prints are logged."""
    return render_template(
        template, notice=content, large=request.args.get("large") == "1",
        autoprint=request.args.get("noprint") != "1", back=back_link("/"), record_url=record,
        withdraw_url=record and record + "/withdraw",
        qr=qr_svg(content["case_no"]) if qr and content.get("case_no") else None)


def qr_svg(text):
    """An inline SVG QR code of ``text``, drawn here: no image from outside.

    A full QR code (segno would pick a Micro QR for a short number, which
    phones do not read), error correction M. Only a viewBox, no width and
    height: print.css gives it its size on paper, and the drawing scales to
    that box (with a fixed pixel size it kept its own size inside the box).
    """
    return Markup(segno.make_qr(text, error="m").svg_inline(border=2, omitsize=True, title=f"办件编号 {text}"))
