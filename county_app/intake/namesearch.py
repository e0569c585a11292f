"""Finding a case by any part of a name: the applicant's (a person or a company) or the agent's.

A clerk types 老赵 or 面馆 for 安澜县老赵面馆, or the given name of the
agent who came before. Each name of a case is indexed by its bigrams,
every two consecutive characters of its ``search_key`` (NFKC, case folded,
spaces dropped), in ``CaseNameGram``, written in the registering
transaction. A search text of two characters or more is cut the same way;
the cases holding all its bigrams are the candidates, read newest first
from the key of its rarest bigram, each other bigram checked by one probe
of the key; a candidate is found when one of its names contains the text
itself (all bigrams present does not mean the text is: 张三三张 holds
三张三's bigrams).

Bounded work, however common the characters: counting a bigram reads at
most ``PROBE_LIMIT`` keys, and a search walks at most the ``SCAN_LIMIT``
newest cases of its rarest bigram. A text whose every bigram is that
common (有限, 公司, a frequent surname and given name) finds matches only
among those newest cases, and says so (``limited``): more characters narrow
it. Plain SQL through peewee, no SQLite-only feature: the hub's PostgreSQL
runs the same queries.
"""
import json
import unicodedata

from peewee import SQL, Select, fn

from ..db import db
from ..prepared import Prepared
from .records import Case, CaseNameGram

SCAN_LIMIT = 2000  # newest cases of the rarest bigram a search reads at most
PROBE_LIMIT = 200  # keys read to tell a rare bigram from a common one
CHECKED_GRAMS = 4  # bigrams checked by the index; the text check covers any others
_CHUNK = 32  # candidate cases read per query
_SPACES = dict.fromkeys(map(ord, " \t\n\r\u3000"))


def search_key(text):
    """``text`` as names are compared: NFKC (full-width letters and digits), case folded, without spaces."""
    return unicodedata.normalize("NFKC", text or "").casefold().translate(_SPACES)


def grams(key):
    """The distinct bigrams of a search key."""
    return {key[i:i + 2] for i in range(len(key) - 1)}


def agent_name(agent):
    """The agent's name from ``Case.agent`` (JSON, or "" for none)."""
    return json.loads(agent).get("name", "") if agent else ""


def agent_phone(agent):
    """The agent's phone from ``Case.agent``, or ""."""
    return json.loads(agent).get("phone", "") if agent else ""


def case_grams(applicant_name, agent_name_text):
    """Every bigram of the names of a case, sorted."""
    return sorted(grams(search_key(applicant_name)) | grams(search_key(agent_name_text)))


def index_case(case_id, applicant_name, agent_name_text):
    """Write the bigrams of a new case's names; call inside the registering transaction."""
    for gram in case_grams(applicant_name, agent_name_text):
        _ADD_GRAM.execute(gram, case_id)


def searchable(text):
    """Whether ``text`` is long enough for a search by part of a name (two characters after ``search_key``)."""
    return len(search_key(text)) >= 2


def find(text, offset, count, extra=None):
    """``(cases, limited)``: the ``offset``-th to ``offset + count``-th newest cases a name of which holds ``text``.

    ``extra`` is a condition on ``Case`` (status, a department's scope),
    applied before counting. ``limited``: the text's bigrams are all common
    and only the newest ``SCAN_LIMIT`` cases of the rarest were read.
    """
    key = search_key(text)
    driver, others = _plan(sorted(grams(key)))
    found, wanted = [], offset + count
    want = min(SCAN_LIMIT, wanted + _CHUNK) if extra is None else SCAN_LIMIT
    ids = _walk(len(others)).rows(driver, *others, want)
    seen = set()
    while True:
        for start in range(0, len(ids), _CHUNK):
            chunk = [i for (i,) in ids[start:start + _CHUNK] if i not in seen]
            seen.update(chunk)
            for case in _cases(chunk, extra):
                if key in search_key(case.applicant_name) or key in search_key(agent_name(case.agent)):
                    found.append(case)
            if len(found) >= wanted:
                return found[offset:wanted], False
        if len(ids) < want or want == SCAN_LIMIT:
            break
        want = SCAN_LIMIT  # false candidates or filtered out: read the rest of the window once
        ids = _walk(len(others)).rows(driver, *others, want)
    # The walk ended: at the end of the bigram's cases, or at the limit?
    return found[offset:wanted], _count(driver, SCAN_LIMIT + 1) > SCAN_LIMIT


def _plan(bigrams):
    """(the bigram to walk: the rarest, up to CHECKED_GRAMS - 1 others to check by the index)."""
    if len(bigrams) == 1:
        return bigrams[0], []
    counted = sorted(bigrams, key=lambda gram: (_count(gram, PROBE_LIMIT + 1), gram))
    return counted[0], counted[1:CHECKED_GRAMS]


def _count(gram, limit):
    return _COUNT.scalar(gram, limit)


def _cases(ids, extra):
    if not ids:
        return []
    if extra is None:
        return _CASES.rows(*ids, *[None] * (_CHUNK - len(ids)))
    return list(Case.select().where(Case.id.in_(ids) & extra).order_by(Case.id.desc()))


def _walk_query(checked):
    """Cases holding the first bigram and ``checked`` others, newest first: values driver, others…, limit."""
    def build(driver, *rest):
        *others, limit = rest
        window = (CaseNameGram.select(CaseNameGram.case.alias("case_id"))
                  .where(CaseNameGram.gram == driver)
                  .order_by(CaseNameGram.case.desc()).limit(SCAN_LIMIT).alias("walk"))
        query = Select(from_list=[window], columns=[window.c.case_id])
        for n, gram in enumerate(others):
            other = CaseNameGram.alias(f"g{n}")
            query = query.where(fn.EXISTS(other.select(SQL("1")).where(
                (other.gram == gram) & (other.case == window.c.case_id))))
        return query.order_by(window.c.case_id.desc()).limit(limit).bind(db).tuples()
    return Prepared(build, arity=checked + 2)


_WALKS = [_walk_query(n) for n in range(CHECKED_GRAMS)]


def _walk(checked):
    return _WALKS[checked]


_ADD_GRAM = Prepared(lambda gram, case_id: CaseNameGram.insert(gram=gram, case=case_id).on_conflict_ignore())
_COUNT = Prepared(lambda gram, limit: Select(
    from_list=[CaseNameGram.select(SQL("1")).where(CaseNameGram.gram == gram).limit(limit).alias("probe")],
    columns=[fn.COUNT(SQL("*"))]).bind(db))
_CASES = Prepared(lambda *ids: Case.select().where(Case.id.in_(list(ids))).order_by(Case.id.desc()),
                  arity=_CHUNK)
