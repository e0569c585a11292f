"""The outbox: one row per change of a case, written in the change's own transaction (docs/sync.md).

``record`` is called by ``intake.events`` for every event it writes, so no
caller can change a case without it. At a township every change goes up
(``node`` ""); at the hub only what a department owns (results,
suspensions, the conclusion they bring) goes down, to the township whose
code begins the case number. ``seq`` is numbered by a counter updated in the
same transaction: at the hub under the node row's lock, so that per node
numbering order is commit order also on a database with concurrent writers.
A township's change that attaches a scan also queues its file (``SyncScan``).
"""
import json
import os
from collections import namedtuple

from .. import settings
from ..prepared import Prepared
from . import snapshot
from .records import SyncMark, SyncNode, SyncOutbox, SyncScan

UP = ""  # the node column of a township's outbox rows
DOWN_ACTIONS = frozenset({"result", "suspend", "resume", "conclude", "resolve"})
# A batch: at most MAX_BATCH_CHANGES changes, about MAX_BATCH_BYTES of payload as sent (before compression).
# Tests that need a backlog of several batches lower the first with COUNTY_APP_SYNC_TEST_BATCH (tests only).
MAX_BATCH_CHANGES = int(os.environ.get("COUNTY_APP_SYNC_TEST_BATCH") or 2000)
MAX_BATCH_BYTES = 4 * 1024 * 1024
Row = namedtuple("Row", "seq case_no action payload")  # an outbox row as a batch carries it


def record(case, event, state=None):
    """Write the outbox row of ``event`` (just inserted for ``case``); inside the change's transaction.
    ``state`` is ``snapshot.case_state`` of the case when already read."""
    if settings.get("node.role") == "hub":
        if event.action not in DOWN_ACTIONS:
            return
        node = case.case_no[:12]
        if not _BUMP_DOWN.execute(node):
            return  # no such township here: nobody to tell
        seq = _DOWN_WRITTEN.scalar(node)
    else:
        node, seq = UP, bump_mark("up.written")
    SyncOutbox.insert(node=node, seq=seq, case_no=case.case_no, action=event.action,
                      payload=snapshot.payload(case.id, event, state)).execute()
    if node == UP and event.action == "scan":  # its file follows the change (sync/scanupload.py)
        SyncScan.insert(node=UP, sha256=json.loads(event.detail)["sha256"], seq=seq).on_conflict_ignore().execute()


def queue_history(name):
    """Queue the changes a township made before it had an outbox: every event up to the mark ``name``,
    case by case, oldest first, then forget the mark (migrations, in the upgrade's transaction).

    Each carries the case's state of today (the states in between were never kept); the hub takes
    them in order, as it takes a case's changes within one batch. At the hub nothing goes up.
    """
    through = _MARK.scalar(name)
    if through is None:
        return
    if settings.get("node.role") != "hub":
        from ..intake.records import Case, CaseEvent

        case = state = None
        events = CaseEvent.select().where(CaseEvent.id <= through).order_by(CaseEvent.case, CaseEvent.id)
        for event in events.iterator():  # not all held at once
            if case is None or case.id != event.case_id:  # one case at a time in memory, its state read once
                case = Case.get_by_id(event.case_id)
                state = snapshot.case_state(case.id)
            record(case, event, state)
    SyncMark.delete().where(SyncMark.name == name).execute()


def mark(name):
    """A township's mark ``name`` (0 before the first)."""
    return _MARK.scalar(name) or 0


def set_mark(name, value):
    SyncMark.insert(name=name, value=value).on_conflict(
        conflict_target=[SyncMark.name], update={SyncMark.value: value}).execute()


def bump_mark(name):
    _ADD_MARK.execute(name)
    _BUMP_MARK.execute(name)
    return _MARK.scalar(name)


def batch_after(node, after):
    """The outbox ``Row``s of ``node`` after ``after``, in order, as a batch carries them.

    At most ``MAX_BATCH_CHANGES`` changes and about ``MAX_BATCH_BYTES`` of
    payload as sent. A change followed in the batch by a later one of its
    case carries only part of its payload (``snapshot.part``; docs/sync.md,
    Push): the items only when it is its case's first in the batch or acts
    on them, and a ``resolve`` always whole. Rows are read one at a time, so
    that those past the limit are not read at all.
    """
    rows, size, first, last = [], 0, {}, {}  # case number → index of its first, of its last row so far
    for seq, case_no, action, payload in _ROWS_AFTER.each(node, after):
        before, grown, cut = last.get(case_no), size + len(payload), None
        if before is not None and rows[before].action != "resolve":
            earlier = rows[before]
            cut = snapshot.part(earlier.payload, items=first[case_no] == before
                                or earlier.action in snapshot.ITEM_ACTIONS)
            grown -= len(earlier.payload) - len(cut)
        if rows and grown > MAX_BATCH_BYTES:
            break
        if cut is not None:
            rows[before] = rows[before]._replace(payload=cut)
        first.setdefault(case_no, len(rows))
        last[case_no] = len(rows)
        rows.append(Row(seq, case_no, action, payload))
        size = grown
    return rows


def acknowledged(node, through):
    """Forget the rows of ``node`` up to ``through``: the other side has applied them."""
    SyncOutbox.delete().where((SyncOutbox.node == node) & (SyncOutbox.seq <= through)).execute()


def backlog(node=UP):
    """How many changes wait for the other side."""
    return SyncOutbox.select().where(SyncOutbox.node == node).count()


_MARK = Prepared(lambda name: SyncMark.select(SyncMark.value).where(SyncMark.name == name).tuples())
_ADD_MARK = Prepared(lambda name: SyncMark.insert(name=name, value=0).on_conflict_ignore())
_BUMP_MARK = Prepared(lambda name: SyncMark.update(value=SyncMark.value + 1).where(SyncMark.name == name))
_BUMP_DOWN = Prepared(lambda code: SyncNode.update(down_written=SyncNode.down_written + 1)
                      .where(SyncNode.code == code))
_DOWN_WRITTEN = Prepared(lambda code: SyncNode.select(SyncNode.down_written).where(SyncNode.code == code).tuples())
_ROWS_AFTER = Prepared(lambda node, after: SyncOutbox.select(
    SyncOutbox.seq, SyncOutbox.case_no, SyncOutbox.action, SyncOutbox.payload).where((SyncOutbox.node == node) & (SyncOutbox.seq > after))
                       .order_by(SyncOutbox.seq).limit(MAX_BATCH_CHANGES))
