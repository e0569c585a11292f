"""``/api/v1/bundles`` and ``/api/v1/matters``: the catalogue in force, read only."""
from dataclasses import asdict

from flask import Blueprint, jsonify, request

from ..catalogue import query
from ..guard import requires
from ..text import shown
from . import shape
from .errors import ApiError

bp = Blueprint("bundles", __name__)

MATTERS_PER_PAGE = 100


@bp.get("/bundles")
@requires("catalogue.browse")
def list_bundles():
    """Every bundle in force: ``[{"code", "name", "lead_department", "audience", …}]``, enabled first."""
    return jsonify([
        {"code": b.code, "name": b.name, "lead_department": b.lead_department, "audience": b.audience,
         "enabled": b.enabled, "member_count": b.member_count}
        for b in query.list_bundles()])


@bp.get("/bundles/<code>")
@requires("catalogue.browse")
def get_bundle(code):
    """One bundle with its ``members`` and ``questions`` (and merged ``materials``, ``fields``, ``totals``)."""
    bundle = query.get_bundle(code)
    if bundle is None:
        raise ApiError(404, "not_found", f"没有编码为 {shown(code, 40)} 的一件事")
    return jsonify(
        code=bundle.code, name=bundle.name, lead_department=bundle.lead_department, audience=bundle.audience,
        description=bundle.description, enabled=bundle.enabled,
        members=[{"code": m.code, "name": m.name, "department": m.department, "required": m.required,
                  "condition": m.condition, "handling": m.handling, "statutory_days": m.statutory_days,
                  "promised_days": m.promised_days, "visits": m.visits, "enabled": m.enabled}
                 for m in bundle.members],
        questions=[{"code": q.code, "text": q.text, "options": q.options, "condition": q.condition}
                   for q in bundle.questions],
        materials=[_material(m) for m in bundle.materials],
        fields=[asdict(f) for f in bundle.fields],
        totals=asdict(bundle.totals),
    )


@bp.get("/matters")
@requires("catalogue.browse")
def list_matters():
    """Matters in force, 100 a page: ``?q=&department=&bundle=&status=enabled|disabled&page=``."""
    page = shape.positive_arg("page", 1)
    args = {key: request.args.get(key, "").strip() or None for key in ("q", "department", "bundle", "status")}
    if args["status"] not in (None, "enabled", "disabled"):
        raise ApiError(400, "bad_request", "status 只能是 enabled 或 disabled")
    found = query.list_matters(**args, limit=MATTERS_PER_PAGE, offset=(page - 1) * MATTERS_PER_PAGE)
    return jsonify(items=[asdict(m) for m in found.items], total=found.total, page=page,
                   per_page=MATTERS_PER_PAGE)


@bp.get("/matters/<code>")
@requires("catalogue.browse")
def get_matter(code):
    """One matter with its materials, form fields and the bundles it belongs to."""
    matter = query.get_matter(code)
    if matter is None:
        raise ApiError(404, "not_found", f"没有编码为 {shown(code, 40)} 的事项")
    answer = asdict(matter)
    answer["materials"] = [_material(m) for m in matter.materials]
    for field in answer["fields"]:
        field.pop("matters")
    return jsonify(answer)


def _material(material):
    answer = asdict(material)
    # "required" as in the guide's merged list (interfaces.md); "necessity" keeps 容缺 apart.
    answer["required"] = material.necessity == "required"
    return answer
