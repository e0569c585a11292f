"""Which cases an actor may see: the one rule every reader of a case goes through.

- A role with ``cases.view_all`` (clerk, administrator) sees every case of this node.
- Another role with ``cases.view`` (department) sees only the cases holding at
  least one item of the user's own department — all of such a case, the other
  departments' items included, as the window does.
- Any other role, or a department user without a department, sees none.
- A plain name instead of a user (the command line, a job) is trusted and sees
  every case, as elsewhere in the domain (``checks.check_permission``).

A case outside the scope is answered exactly as an unknown number is
(``unknown_case``: NotFound, 404, the same words), so that the answer never
confirms that the case exists. ``events.load_case`` applies the rule to every
read and write of one case; ``lists`` (every search and board) and the
rectification list apply it with ``condition`` / ``holds_department`` (to
filter a few candidate cases) or ``department_cases`` (to list a
department's cases from the index on ``case_item (department, case_id)``).

At the county hub every township's cases are in one database. The rule holds
there unchanged: a department's scope is by the department of the items, so
a county department sees its items' cases from every township and nothing
else. When cases carry their node's code, ``Scope`` grows a ``node``: a
clerk or administrator of one township then sees ``Case.node == actor.node``
(the hub's own staff keep ``every``), added here in ``condition``,
``may_see`` and the lists' department queries; no adapter changes.
"""
from dataclasses import dataclass

from peewee import fn

from .. import access
from ..db import db
from ..prepared import Prepared
from ..text import shown
from .errors import NotFound
from .records import Case, CaseItem


@dataclass(frozen=True)
class Scope:
    """The cases an actor may see: ``every`` case, or those holding an item of ``department``, or none."""
    every: bool = False
    department: str | None = None

    @property
    def nothing(self):
        return not self.every and not self.department


EVERY = Scope(every=True)
NOTHING = Scope()


def scope_of(actor):
    """The ``Scope`` of ``actor`` (a ``User``, or a plain name for the trusted command line)."""
    role = getattr(actor, "role", None)
    if role is None:
        return EVERY
    if not access.allowed(role, "cases.view"):
        return NOTHING
    if access.allowed(role, "cases.view_all"):
        return EVERY
    return Scope(department=getattr(actor, "department", None) or None)


def unknown_case(case_no):
    """The answer for a case number that is unknown, or outside the asker's scope (the same words)."""
    return NotFound(f"没有编号为 {shown(case_no, 40)} 的办件")


def may_see(actor, case):
    """Whether ``actor`` may see ``case`` (a ``Case`` row)."""
    scope = scope_of(actor)
    if scope.every:
        return True
    if scope.nothing:
        return False
    return _HOLDS.scalar(scope.department, case.id) is not None


def require_visible(case, actor, asked=None):
    """``case`` if ``actor`` may see it, else ``unknown_case`` for the number ``asked`` (as typed)."""
    if not may_see(actor, case):
        raise unknown_case(case.case_no if asked is None else asked)
    return case


def condition(scope, cases=Case):
    """SQL limiting the rows of ``cases`` (the Case model or an alias) to ``scope``; None for every case."""
    if scope.every:
        return None
    if scope.nothing:
        return cases.id.is_null()  # never true: no case has no id
    return holds_department(scope.department, cases)


def holds_department(department, cases=Case):
    """SQL: the case row (of ``cases``, a Case model or alias) holds an item of ``department``.

    For queries whose other conditions already narrow the cases to a few
    (a phone, an ID number, a day): each candidate costs one probe of the
    ``case_item (department, case_id)`` index.
    """
    item = CaseItem.alias("visible_item")
    return fn.EXISTS(item.select(item.id).where((item.department == department) & (item.case == cases.id)))


def department_cases(department):
    """The cases holding an item of ``department``, newest first, read from the index.

    For listing without another narrowing condition: walking the
    ``case_item (department, case_id)`` index backwards finds a page of a
    department's cases at once, however few cases it has among a million
    (filtering every case with ``holds_department`` would scan them all).
    """
    query = (Case.select(Case).join(CaseItem, on=(CaseItem.case == Case.id))
             .where(CaseItem.department == department))
    if db.dialect == "postgresql":  # a case's columns may be selected when grouped by its key, not by the item's
        return query.group_by(Case.id).order_by(Case.id.desc())
    return query.group_by(CaseItem.case).order_by(CaseItem.case.desc())


_HOLDS = Prepared(lambda department, case_id: CaseItem.select(CaseItem.id)
                  .where((CaseItem.department == department) & (CaseItem.case == case_id)).limit(1))
