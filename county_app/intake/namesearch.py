"""Finding a case by any part of a name: the applicant's (a person or a company) or the agent's.

A clerk types 老赵 or 面馆 for 安澜县老赵面馆, or the given name of the
agent who came before. Each name of a case is indexed by its bigrams,
every two consecutive characters of its ``search_key`` (NFKC, case folded,
spaces dropped) after a START mark, in ``CaseNameGram``, written in the
registering transaction: 李娜 gives ``^李`` and ``李娜``, so that one
character finds the names it starts (a surname), as a bigram too. A
search text is cut the same way (one character: with the mark before it);
the cases holding all its bigrams are the candidates, read newest first
from the key of its rarest bigram, each other bigram checked by one probe
of the key; a candidate is found when one of its names contains the text
itself (all bigrams present does not mean the text is: 张三三张 holds
三张三's bigrams).

Bounded work, however common the characters: counting a bigram reads at
most ``PROBE_LIMIT`` keys (``SCAN_LIMIT`` when all of a text's are common),
for at most ``COUNTED_GRAMS`` of them, and a search walks at most the
``SCAN_LIMIT`` newest cases of its rarest bigram. A text whose every bigram is that
common (有限, 公司, a frequent surname and given name) finds matches only
among those newest cases, and says so (``limited``): more characters narrow
it. Plain SQL through peewee, no SQLite-only feature: the hub's PostgreSQL
runs the same queries.
"""
import json
import unicodedata

from peewee import SQL, Select, fn

from ..db import db
from ..prepared import Prepared, insert_rows
from .casejson import SUMMARY_COLUMNS
from .records import Case, CaseNameGram

SCAN_LIMIT = 2000  # newest cases of the rarest bigram a search reads at most
PROBE_LIMIT = 200  # keys read to tell a rare bigram from a common one
CHECKED_GRAMS = 4  # bigrams checked by the index; the text check covers any others
COUNTED_GRAMS = 8  # bigrams of a long text counted to find the rarest, spread over the text
_CHUNK = 32  # candidate cases read per query
START = "^"  # the mark before a name's first character; search_key drops it from what is typed
_DROPPED = dict.fromkeys(map(ord, " \t\n\r\u3000" + START))


def search_key(text):
    """``text`` as names are compared: NFKC (full-width letters and digits), case folded, without spaces."""
    return unicodedata.normalize("NFKC", text or "").casefold().translate(_DROPPED)


def grams(key):
    """The distinct bigrams of a search key."""
    return {key[i:i + 2] for i in range(len(key) - 1)}


def _indexed(name):
    """A name as indexed and checked: START and its search key."""
    return START + search_key(name)


def _looked_for(text):
    """A search text as looked for: its key, with START before a single character."""
    key = search_key(text)
    return START + key if len(key) == 1 else key


def agent_name(agent):
    """The agent's name from ``Case.agent`` (JSON, or "" for none)."""
    return json.loads(agent).get("name", "") if agent else ""


def agent_phone(agent):
    """The agent's phone from ``Case.agent``, or ""."""
    return json.loads(agent).get("phone", "") if agent else ""


def case_grams(applicant_name, agent_name_text):
    """Every bigram of the names of a case, sorted."""
    return sorted(grams(_indexed(applicant_name)) | grams(_indexed(agent_name_text)))


def index_case(case_id, applicant_name, agent_name_text):
    """Write the bigrams of a new case's names; call inside the registering transaction."""
    for gram in case_grams(applicant_name, agent_name_text):
        _ADD_GRAM.execute(gram, case_id)


def index_cases(cases):
    """``index_case`` of many new cases ``[(case_id, applicant_name, agent_name_text)]`` in one statement."""
    insert_rows(CaseNameGram, [{"gram": gram, "case": case_id} for case_id, applicant_name, agent_name_text in cases
                               for gram in case_grams(applicant_name, agent_name_text)])


def searchable(text):
    """Whether ``text`` holds a character to look for (spaces and START are not)."""
    return bool(search_key(text))


def find(text, offset, count, extra=None):
    """``(cases, limited)``: the ``offset``-th to ``offset + count``-th newest cases a name of which holds ``text``
    (one character: a name of which starts with it).

    ``extra`` is a condition on ``Case`` (status, a department's scope),
    applied before counting. ``limited``: the text's bigrams are all common
    and only the newest ``SCAN_LIMIT`` cases of the rarest were read.
    """
    key = _looked_for(text)
    driver, others = _plan(_spread(key))
    exact = not others and len(key) == 2 and extra is None  # a bigram's cases are the answer itself
    wanted = offset + count
    want = min(SCAN_LIMIT, wanted + (0 if exact else _CHUNK)) if extra is None else SCAN_LIMIT
    ids = [case_id for (case_id,) in _walk(len(others)).rows(driver, *others, want)]
    matches = list(ids) if exact else _matching(ids, key, extra, wanted)
    if len(matches) < wanted and len(ids) == want < SCAN_LIMIT:
        # false candidates or filtered out: read the rest of the window once
        more = [case_id for (case_id,) in _walk(len(others)).rows(driver, *others, SCAN_LIMIT)][len(ids):]
        ids += more
        matches += _matching(more, key, extra, wanted - len(matches))
    page = _cases(matches[offset:wanted])
    if len(matches) >= wanted:
        return page, False
    return page, _count(driver, SCAN_LIMIT + 1) > SCAN_LIMIT  # the walk ended: at the bigram's end, or the window's?


def _matching(ids, key, extra, wanted):
    """The first ``wanted`` of ``ids`` (newest first) whose case meets ``extra`` and a name of which holds ``key``."""
    matches = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        for case_id, applicant_name, agent in _names(chunk, extra):
            if key in _indexed(applicant_name) or key in _indexed(agent_name(agent)):
                matches.append(case_id)
                if len(matches) >= wanted:
                    return matches
    return matches


def _spread(key):
    """Up to COUNTED_GRAMS distinct bigrams of ``key``, spread over it: a pasted company name of
    30 characters is narrowed by its distinctive middle as well, at a bounded cost."""
    ordered = list(dict.fromkeys(key[i:i + 2] for i in range(len(key) - 1)))
    if len(ordered) <= COUNTED_GRAMS:
        return ordered
    step = (len(ordered) - 1) / (COUNTED_GRAMS - 1)
    return list(dict.fromkeys(ordered[round(n * step)] for n in range(COUNTED_GRAMS)))


def _plan(bigrams):
    """(the bigram to walk: the rarest, up to CHECKED_GRAMS - 1 others to check by the index, rarest first).

    Counted up to PROBE_LIMIT first; when every bigram passes it, those
    are counted again up to SCAN_LIMIT: walking a bigram of 500 cases
    instead of one of 200,000 saves thousands of probes of the others.
    """
    if len(bigrams) == 1:
        return bigrams[0], []
    counts = {gram: _count(gram, PROBE_LIMIT + 1) for gram in bigrams}
    if min(counts.values()) > PROBE_LIMIT:
        counts = {gram: _count(gram, SCAN_LIMIT + 1) for gram in bigrams}
    counted = sorted(bigrams, key=lambda gram: (counts[gram], gram))
    return counted[0], counted[1:CHECKED_GRAMS]


def _count(gram, limit):
    return _COUNT.scalar(gram, limit)


def _names(ids, extra):
    """(id, applicant name, agent) of the cases ``ids`` that meet ``extra``, newest first."""
    padded = (*ids, *[None] * (_CHUNK - len(ids)))
    if extra is None:
        return _NAMES.rows(*padded)
    return list(Case.select(Case.id, Case.applicant_name, Case.agent)
                .where(Case.id.in_(list(ids)) & extra).order_by(Case.id.desc()).tuples())


def _cases(ids):
    """The cases ``ids`` (a page: up to the API's 100 and one), newest first."""
    cases = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        cases += _CASES.rows(*chunk, *[None] * (_CHUNK - len(chunk)))
    return cases


def _walk_query(checked):
    """Cases holding the first bigram and ``checked`` others, newest first: values driver, others…, limit.

    The window is a floor on the case id (the SCAN_LIMIT-th newest case of the
    driver, read once from the key), so the walk itself runs down the key in
    the order asked and stops at ``limit``: a limit on a subquery instead
    made SQLite read and sort the whole window every time.
    """
    def build(driver, *rest):
        *others, limit = rest
        window = CaseNameGram.alias("window")
        newest = (window.select(window.case.alias("case_id")).where(window.gram == driver)
                  .order_by(window.case.desc()).limit(SCAN_LIMIT).alias("newest"))
        floor = Select(from_list=[newest], columns=[fn.MIN(newest.c.case_id)])
        query = CaseNameGram.select(CaseNameGram.case).where(
            (CaseNameGram.gram == driver) & (CaseNameGram.case >= floor))
        for n, gram in enumerate(others):
            other = CaseNameGram.alias(f"g{n}")
            query = query.where(fn.EXISTS(other.select(SQL("1")).where(
                (other.gram == gram) & (other.case == CaseNameGram.case))))
        return query.order_by(CaseNameGram.case.desc()).limit(limit).tuples()
    return Prepared(build, arity=checked + 2)


_WALKS = [_walk_query(n) for n in range(CHECKED_GRAMS)]


def _walk(checked):
    return _WALKS[checked]


_ADD_GRAM = Prepared(lambda gram, case_id: CaseNameGram.insert(gram=gram, case=case_id).on_conflict_ignore())
_COUNT = Prepared(lambda gram, limit: Select(
    from_list=[CaseNameGram.select(SQL("1")).where(CaseNameGram.gram == gram).limit(limit).alias("probe")],
    columns=[fn.COUNT(SQL("*"))]).bind(db))
_CASES = Prepared(lambda *ids: Case.select(*SUMMARY_COLUMNS).where(Case.id.in_(list(ids))).order_by(Case.id.desc()),
                  arity=_CHUNK)
_NAMES = Prepared(lambda *ids: Case.select(Case.id, Case.applicant_name, Case.agent)
                  .where(Case.id.in_(list(ids))).order_by(Case.id.desc()).tuples(), arity=_CHUNK)
