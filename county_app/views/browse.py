"""Clerk pages: the bundles (一件事) and matters of the catalogue in force, and search."""
from flask import Blueprint, abort, render_template, request

from ..catalogue import query, vocabulary
from ..guard import requires
from ..intake.errors import Invalid
from ..text import search_text
from .cases import page_number

bp = Blueprint("browse", __name__)

MATTERS_PER_PAGE = 100
STATUS_FILTERS = {"enabled": "启用", "disabled": "停用"}


@bp.context_processor
def _helpers():
    return {"word": word, "time_limit": time_limit, "prefill_word": prefill_word}


def word(code, table):
    """The catalogue's Chinese word for ``code`` in the vocabulary table named ``table`` ("" for None)."""
    return vocabulary.word_for(getattr(vocabulary, table), code) or (code or "")


def prefill_word(code, fields=()):
    """申请人.姓名 → 申请人姓名, 表单.XSEXM → 新生儿姓名 when ``fields`` holds it: how a 预填来源 reads on screen."""
    return vocabulary.prefill_label(code, {f.code: f.name for f in fields})


def time_limit(handling, statutory_days, promised_days):
    """``法定 20 个工作日 / 承诺 10 个工作日``, or ``即办`` for an 即办件."""
    if handling == "instant":
        return "即办" if not statutory_days else f"即办（法定 {statutory_days} 个工作日）"
    return f"法定 {statutory_days} 个工作日 / 承诺 {promised_days} 个工作日"


@bp.get("/")
@requires("catalogue.browse")
def index():
    """Home page: the search box and every bundle in force."""
    return render_template("browse/index.html", version=query.current_version(), bundles=query.list_bundles())


@bp.get("/bundles/<code>")
@requires("catalogue.browse")
def bundle(code):
    """One bundle: members, questions, merged materials and form fields."""
    version = query.current_version()
    if version is None:
        return render_template("browse/empty.html", title="一件事"), 404
    detail = query.get_bundle(code)
    if detail is None:
        abort(404)
    names = {member.code: member.name for member in detail.members}
    return render_template("browse/bundle.html", version=version, bundle=detail, matter_names=names)


@bp.get("/matters")
@requires("catalogue.browse")
def matters():
    """Single matters in force, filtered by department, bundle, status and text, 100 a page."""
    version = query.current_version()
    if version is None:
        return render_template("browse/empty.html", title="单项事项")
    filters = {key: search_text(request.args.get(key)) for key in ("department", "bundle", "status", "q")}
    problem = ""
    try:
        page = page_number(request.args.get("page"))
    except Invalid as exc:  # the first page, with the message above it
        page, problem = 1, exc.message
    found = query.list_matters(department=filters["department"] or None, bundle=filters["bundle"] or None,
                               status=filters["status"] or None, q=filters["q"] or None,
                               limit=MATTERS_PER_PAGE, offset=(page - 1) * MATTERS_PER_PAGE)
    pages = max((found.total + MATTERS_PER_PAGE - 1) // MATTERS_PER_PAGE, 1)
    return render_template("browse/matters.html", version=version, matters=found.items, total=found.total,
                           page=min(page, pages), pages=pages, filters=filters, departments=query.departments(),
                           bundles=query.list_bundles(), statuses=STATUS_FILTERS, problem=problem), \
        400 if problem else 200


@bp.get("/matters/<code>")
@requires("catalogue.browse")
def matter(code):
    """One matter: basic information, 受理条件, 设定依据, fees, materials and form fields."""
    version = query.current_version()
    if version is None:
        return render_template("browse/empty.html", title="单项事项"), 404
    detail = query.get_matter(code)
    if detail is None:
        abort(404)
    return render_template("browse/matter.html", version=version, matter=detail)


@bp.get("/search")
@requires("catalogue.browse")
def search():
    """Bundles and matters by name, code or pinyin initials (``xse`` → 新生儿出生)."""
    version = query.current_version()
    if version is None:
        return render_template("browse/empty.html", title="搜索")
    q = search_text(request.args.get("q"))
    return render_template("browse/search.html", version=version, q=q, hits=query.search(q) if q else [])
