"""The township a case came from: the first 12 digits of its number are the township's centre code.

At the hub each case is shown with its township, named as ``node add`` registered it, else by the code
(a case from a township the hub no longer lists, e.g. restored from a backup). At a township every case is
its own, so nothing is added there.
"""
from .. import settings
from ..prepared import Prepared
from ..sync.records import SyncNode

CODE_LENGTH = 12


def namer():
    """A function giving a case number's township, ``{"code", "name"}`` (name None if unknown), at the hub;
    at a township a function giving None. The names are read once: a list needs one query."""
    if not settings.is_hub():
        return lambda case_no: None
    names = dict(SyncNode.select(SyncNode.code, SyncNode.name).tuples())  # a county's few dozen townships
    return lambda case_no: {"code": case_no[:CODE_LENGTH], "name": names.get(case_no[:CODE_LENGTH]) or None}


def of_case(case_no):
    """The township of one case at the hub, as ``namer`` gives it; None at a township."""
    if not settings.is_hub():
        return None
    code = case_no[:CODE_LENGTH]
    return {"code": code, "name": _NAME.scalar(code) or None}


_NAME = Prepared(lambda code: SyncNode.select(SyncNode.name).where(SyncNode.code == code).tuples())
