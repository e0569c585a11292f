"""``POST /api/v1/guide``: the one-time notice (一次告知) for a bundle and answers, or for single matters."""
from flask import Blueprint, jsonify

from ..guard import requires
from ..intake.facts import case_facts
from ..intake.guide import guide_bundle, guide_matters
from . import shape
from .errors import ApiError

bp = Blueprint("guide", __name__)


@bp.post("/guide")
@requires("catalogue.browse")
def guide():
    """``{"bundle", "answers", "matters"?}`` or ``{"matters": [...]}`` → the guide (intake.guide.Guide.to_json).

    ``applicant`` (``{"kind": "person"|"company"}``) and ``agent`` (true/false, or the agent's
    details) are optional: left out, a material that hinges on them is listed with its condition.
    """
    body = shape.json_body()
    bundle, answers, matters = body.get("bundle"), body.get("answers"), body.get("matters")
    applicant, agent = body.get("applicant"), body.get("agent")
    problems = []
    if applicant is not None and not (isinstance(applicant, dict)
                                      and (applicant.get("kind") is None or isinstance(applicant["kind"], str))):
        problems.append({"field": "applicant", "message": "应为 {\"kind\": \"person\" 或 \"company\"} 对象"})
    if agent is not None and not isinstance(agent, (bool, dict)):
        problems.append({"field": "agent", "message": "应为 true、false 或代办人信息对象"})
    if bundle is not None and not isinstance(bundle, str):
        problems.append({"field": "bundle", "message": "应为一件事编码（文字）"})
    if answers is not None and not (isinstance(answers, dict)
                                    and all(v is None or isinstance(v, str) for v in answers.values())):
        problems.append({"field": "answers", "message": "应为 {问题编码: 回答} 对象，回答为文字"})
    if matters is not None and not (isinstance(matters, list) and all(isinstance(m, str) for m in matters)):
        problems.append({"field": "matters", "message": "应为事项编码的列表"})
    if bundle is None and matters is None:
        problems.append({"field": "bundle", "message": "请给出一件事编码 bundle，或单项事项编码列表 matters"})
    if problems:
        raise ApiError(400, "bad_request", "请求格式不正确：" + "；".join(p["message"] for p in problems), problems)
    facts = case_facts(kind=(applicant or {}).get("kind") or None, agent=agent)
    if bundle is None:
        if answers:
            raise ApiError(400, "bad_request", "单项事项没有情形问题，不能带 answers",
                           [{"field": "answers", "message": "单项事项没有情形问题"}])
        return jsonify(guide_matters(matters, facts=facts).to_json())
    return jsonify(guide_bundle(bundle, answers or {}, matters, facts=facts).to_json())
