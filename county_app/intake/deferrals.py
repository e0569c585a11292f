"""容缺受理: papers a case was accepted without (status ``deferred``), still to come.

The catalogue says only that such a paper may be supplied after acceptance
(catalogue-xlsx.md, 必要性 容缺); the domain facts set no rule that the result
must be withheld until it arrives. So concluding (办结) and delivering (出件)
a case with one outstanding are allowed, but never silently: every answer
about the case carries the warning (``case_json``'s ``warnings``), the case
page shows it, and the page's 出件 asks the clerk to confirm that the
applicant was told (``views/case_actions``).
"""
from datetime import date

from .statuses import dated

AFTER_ACCEPTANCE = ("accepted", "concluded", "delivered")


def outstanding(status, materials, today=None):
    """The 容缺 papers of a case in ``status`` still to come: ``material``, ``name``, ``until``, ``overdue``."""
    if status not in AFTER_ACCEPTANCE:
        return []
    today = today or date.today()
    return [{"material": m.code, "name": m.name, "until": m.deferred_until.isoformat() if m.deferred_until else None,
             "calendar_complete": m.deferred_complete,
             "overdue": bool(m.deferred_until and m.deferred_until < today)}
            for m in materials if m.status == "deferred"]


def listed(papers):
    """「保证食品安全的规章制度」（须于 2026-10-20 前补交，已逾期）、… for a message."""
    return "、".join(f"「{p['name']}」（须于 {dated(p['until'], p['calendar_complete'])} 前补交"
                     f"{'，已逾期' if p['overdue'] else ''}）" for p in papers)


def warnings(status, materials, today=None):
    """The warnings a case's answer carries: one ``deferred_outstanding`` while 容缺 papers are still to come."""
    papers = outstanding(status, materials, today)
    if not papers:
        return []
    then = {"accepted": "办结和出件前请核实是否已补交", "concluded": "出件时请收取，或告知申请人按期补交",
            "delivered": "办件已出件，请督促申请人按期补交"}[status]
    return [{"code": "deferred_outstanding", "message": f"容缺受理的材料尚未补交：{listed(papers)}；{then}。",
             "materials": papers}]
