"""What one change carries: the event and the case's state after it, as plain JSON, and its checked reading.

The payload is made once, in the transaction of the change (``outbox``),
and never refers to rows that may change later. ``read`` checks a payload
received from the other side field by field against the columns it will be
written to (type, length, dates) and gives a ``Change`` of clean values, or
a BatchInvalid naming the field: nothing unchecked reaches the database.
A change followed in its batch by a later one of the same case is read in
part (``whole=False``): what the receiving side takes from every change (the
event, the status and conclusion, the items when it acts on them), not the
registration and checklist, of which only the last state is written. Such a
change also travels in part (``part``, docs/sync.md, Push): the sender cuts
its payload to what the receiver reads of it.
"""
import json
import re
from dataclasses import dataclass
from datetime import date, datetime

from peewee import BooleanField, DateField, DateTimeField, ForeignKeyField, IntegerField, TextField

from ..models import CatalogueVersion
from ..intake.records import Case, CaseEvent, CaseItem, CaseMaterial, Evaluation, MaterialScan, Scan, Suspension
from ..intake import scans as intake_scans  # partly loaded here (intake.scans → events → outbox → snapshot)
from .errors import SyncRefused

MAX_TEXT = 100_000  # characters of one text column (a case's form JSON is a few KB)


def _columns(model, *skip):
    return [f for f in model._meta.sorted_fields
            if not f.primary_key and not isinstance(f, ForeignKeyField) and f.name not in skip]


CASE_COLUMNS = _columns(Case, "case_no", "version", "case_no_reversed")
ITEM_COLUMNS = _columns(CaseItem)
SUSPENSION_COLUMNS = _columns(Suspension)
MATERIAL_COLUMNS = _columns(CaseMaterial)
EVALUATION_COLUMNS = _columns(Evaluation)
EVENT_COLUMNS = _columns(CaseEvent, "request_key")
LINK_COLUMNS = _columns(MaterialScan)  # filename, attached_at, attached_by
_SHA256 = re.compile(r"[0-9a-f]{64}")
# What a department owns of an item (docs/sync.md, Who owns what): its result, its suspensions and the
# due date they move.
# What the receiving side works out from each change rather than copying the last state (apply.py).
DERIVED_CASE_COLUMNS = ("status", "due_date", "due_complete", "concluded_at", "concluded_on")
DERIVED_COLUMNS = [column for column in CASE_COLUMNS if column.name in DERIVED_CASE_COLUMNS]
# The changes whose items the receiving side reads (apply.py): a department's acts, acceptance (the due
# dates), a conflict's resolution.
ITEM_ACTIONS = frozenset({"result", "suspend", "resume", "accept", "resolve"})
DEPARTMENT_ITEM_COLUMNS = ("status", "due_date", "due_complete", "suspended_since", "suspended_days",
                           "result_no", "result_note", "result_at", "result_by")


class BatchInvalid(SyncRefused):
    def __init__(self, message):
        super().__init__(422, "invalid_change", message)


def _dumped(row, columns):
    out = {}
    for column in columns:
        value = getattr(row, column.name)
        out[column.name] = str(value) if isinstance(value, (date, datetime)) else value
    return out


def payload(case_id, event, state=None):
    """The JSON text of a change: ``event`` and the state of case ``case_id`` now (inside the transaction);
    ``state``, when given, is that case's ``state`` already read."""
    event_json = json.dumps({**_dumped(event, EVENT_COLUMNS), "id": event.id}, ensure_ascii=False,
                            separators=(",", ":"))
    return '{"event":' + event_json + "," + (state or case_state(case_id))[1:]


def case_state(case_id):
    """The JSON text of the state of case ``case_id`` now: a payload without its event."""
    case = Case.get_by_id(case_id)
    items = []
    for item in CaseItem.of_case(case_id):
        suspensions = Suspension.select().where(Suspension.item == item.id).order_by(Suspension.id)
        items.append({**_dumped(item, ITEM_COLUMNS), "suspensions": [_dumped(s, SUSPENSION_COLUMNS)
                                                                    for s in suspensions]})
    evaluation = Evaluation.get_or_none(Evaluation.case == case_id)
    return json.dumps({
        "catalogue": CatalogueVersion.by_id(case.catalogue_id).version,
        "case": _dumped(case, CASE_COLUMNS),
        "items": items,
        "materials": [_dumped(m, MATERIAL_COLUMNS) for m in CaseMaterial.of_case(case_id)],
        "evaluation": _dumped(evaluation, EVALUATION_COLUMNS) if evaluation else None,
        "scans": [{"material": link.material.code, "sha256": link.scan.sha256, "kind": link.scan.kind,
                   "size": link.scan.size, "pages": link.scan.pages, **_dumped(link, LINK_COLUMNS)}
                  for link in MaterialScan.select(MaterialScan, Scan, CaseMaterial).join(Scan)
                  .join_from(MaterialScan, CaseMaterial).where(CaseMaterial.case == case_id)
                  .order_by(MaterialScan.id)],
    }, ensure_ascii=False, separators=(",", ":"))


def part(text, *, items):
    """The JSON text a change carries when a later change of its case follows in its batch (``outbox.batch_after``).

    Of the stored payload ``text``: the event, the catalogue, the case's
    ``DERIVED_CASE_COLUMNS`` and, when ``items``, the items: what ``read``
    with ``whole=False`` takes, not the registration, checklist, rating and
    scans, of which the receiver writes only the last change's. The values
    are copied as text; the keys are read in order, stopping once those
    needed are found (``payload`` writes them first, before the checklist).
    """
    keys = _PART_ITEMS if items else _PART
    found, at = {}, 1
    try:
        while len(found) < len(keys) and text[at - 1] != "}":  # payload() writes no whitespace
            key, at = _DECODER.raw_decode(text, at)
            start = at + 1  # past the colon
            value, at = _DECODER.raw_decode(text, start)
            if key in keys:
                found[key] = value if key == "case" else text[start:at]
            at += 1  # past the comma
    except (ValueError, IndexError, TypeError):  # not as payload() writes it: read whole
        data = json.loads(text)
        found = {key: data[key] if key == "case" else json.dumps(data[key], ensure_ascii=False, separators=_TIGHT)
                 for key in keys if key in data}
    if "case" in found:
        case = found["case"]
        found["case"] = json.dumps({name: case[name] for name in DERIVED_CASE_COLUMNS if name in case}
                                   if isinstance(case, dict) else case, ensure_ascii=False, separators=_TIGHT)
    return "{%s}" % ",".join(f'"{key}":{found[key]}' for key in keys if key in found)


_DECODER = json.JSONDecoder()
_TIGHT = (",", ":")
_PART, _PART_ITEMS = ("event", "catalogue", "case"), ("event", "catalogue", "case", "items")


@dataclass
class Change:
    case_no: str
    event: dict
    catalogue: str
    case: dict  # of a change read in part, only DERIVED_CASE_COLUMNS
    items: dict | None  # matter code → columns, with "suspensions": [columns]; None when not read
    materials: list | None  # None when not read
    evaluation: dict | None
    scans: list | None  # None when not read; {"material", "sha256", "kind", "size", "pages", "filename", "attached_at", "attached_by"}
    whole: bool = True


def read(case_no, data, where, *, whole=True, items=True):
    """The checked ``Change`` of a received payload ``data``; BatchInvalid naming ``where`` and the field.

    ``whole=False`` reads the event, the catalogue, the case's derived columns
    and (when ``items``) the items only: the rest is neither checked nor given.
    """
    if not isinstance(data, dict):
        raise BatchInvalid(f"{where}：变更内容应为 JSON 对象")
    evaluation = data.get("evaluation") if whole else None
    return Change(
        case_no=case_no,
        event=_clean(data.get("event"), _EVENT, f"{where} event"),
        catalogue=_text(data.get("catalogue"), 200, f"{where} catalogue"),
        case=_clean(data.get("case"), _CASE if whole else _DERIVED, f"{where} case"),
        items=_items(data, where) if whole or items else None,
        materials=[_clean(m, _MATERIAL, f"{where} materials[{n}]")
                   for n, m in enumerate(_list(data, "materials", where))] if whole else None,
        evaluation=None if evaluation is None else _clean(evaluation, _EVALUATION, f"{where} evaluation"),
        scans=[_scan(s, f"{where} scans[{n}]")  # changes written before scans travelled (0012) name none
               for n, s in enumerate(_list(data, "scans", where) if "scans" in data else [])] if whole else None,
        whole=whole)


def _items(data, where):
    items = {}
    for index, item in enumerate(_list(data, "items", where)):
        clean = _clean(item, _ITEM, f"{where} items[{index}]")
        clean["suspensions"] = [_clean(s, _SUSPENSION, f"{where} items[{index}].suspensions[{n}]")
                                for n, s in enumerate(_list(item, "suspensions", f"{where} items[{index}]"))]
        items[clean["matter_code"]] = clean
    return items


def _scan(data, where):
    clean = _clean(data, _LINK, where)
    clean["material"] = _text(data.get("material"), 40, f"{where}.material")
    clean["sha256"] = _text(data.get("sha256"), 64, f"{where}.sha256")
    if not _SHA256.fullmatch(clean["sha256"]):
        raise BatchInvalid(f"{where}.sha256：应为 64 位小写十六进制数字")
    clean["kind"] = _text(data.get("kind"), 8, f"{where}.kind")
    if clean["kind"] not in intake_scans.EXTENSIONS:
        raise BatchInvalid(f"{where}.kind：应为 {'、'.join(intake_scans.EXTENSIONS)} 之一")
    for name, top in (("size", intake_scans.MAX_SCAN_BYTES), ("pages", 100_000)):
        value = data.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= top:
            raise BatchInvalid(f"{where}.{name}：应为 1 到 {top} 之间的整数")
        clean[name] = value
    return clean


def _list(data, key, where):
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, list) or len(value) > 1000:
        raise BatchInvalid(f"{where}：{key} 应为列表（至多 1000 项）")
    return value


def _clean(data, plan, where):
    """The values of the columns of ``plan`` (``_plan``) in ``data``, checked; plain text, whole numbers, moments,
    days and allowed nulls the short way (a payload's all), the rest by ``_value``, which also words the refusal."""
    if not isinstance(data, dict):
        raise BatchInvalid(f"{where}：应为 JSON 对象")
    clean = {}
    for column, name, kind, limit in plan:
        value = data.get(name, _MISSING)
        if value is None and column.null or (type(value) is str and len(value) <= limit if kind is str else
                                             type(value) is kind and (kind is bool or -_WHOLE < value < _WHOLE)):
            clean[name] = value
        elif kind is _MOMENT and type(value) is str and len(value) <= limit and _moment(value):
            clean[name] = value
        elif kind is _DAY_KIND and type(value) is str and (day := _day(value)) is not None:
            clean[name] = day
        else:  # anything else: refused (or converted) by _value, the field's name worded only then
            clean[name] = _value(column, value, f"{where}.{name}")
    return clean


def _moment(text):
    try:
        datetime.fromisoformat(text)
        return True
    except ValueError:
        return False


def _day(text):
    """The date of ``text`` written YYYY-MM-DD, or None."""
    try:
        return date.fromisoformat(text) if _DAY.fullmatch(text) else None
    except ValueError:
        return None


def _plan(columns):
    return [(column, column.name, *_kind(column)) for column in columns]


def _kind(column):
    """(type, text limit) of the values ``_clean`` takes as they come, or checks (a moment: as text; a day: as a
    date); ``_value`` words the refusal of any other."""
    if isinstance(column, BooleanField):
        return bool, 0
    if isinstance(column, IntegerField):
        return int, 0
    if isinstance(column, DateTimeField):
        return _MOMENT, 40
    if isinstance(column, DateField):
        return _DAY_KIND, 10
    return str, MAX_TEXT if isinstance(column, TextField) else (column.max_length or 255)


_WHOLE = 2 ** 53
_MOMENT, _DAY_KIND = "moment", "day"  # checked by _clean, a day given as a date
_CASE, _DERIVED, _ITEM, _SUSPENSION, _MATERIAL, _EVALUATION, _EVENT, _LINK = map(_plan, (
    CASE_COLUMNS, DERIVED_COLUMNS, ITEM_COLUMNS, SUSPENSION_COLUMNS, MATERIAL_COLUMNS, EVALUATION_COLUMNS,
    EVENT_COLUMNS, LINK_COLUMNS))


_MISSING = object()
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _value(column, value, where):
    if value is _MISSING:
        raise BatchInvalid(f"{where}：缺少这一项")
    if value is None:
        if column.null:
            return None
        raise BatchInvalid(f"{where}：不能为空")
    if isinstance(column, BooleanField):
        if not isinstance(value, bool):
            raise BatchInvalid(f"{where}：应为 true 或 false")
        return value
    if isinstance(column, IntegerField):
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 2 ** 53:
            raise BatchInvalid(f"{where}：应为整数")
        return value
    if isinstance(column, DateTimeField):
        text = _text(value, 40, where)
        try:
            datetime.fromisoformat(text)
        except ValueError:
            raise BatchInvalid(f"{where}：不是有效的时间：{text[:40]}") from None
        return text
    if isinstance(column, DateField):
        text = _text(value, 10, where)
        try:
            if not _DAY.fullmatch(text):
                raise ValueError
            return date.fromisoformat(text)
        except ValueError:
            raise BatchInvalid(f"{where}：不是有效的日期（YYYY-MM-DD）：{text[:20]}") from None
    limit = MAX_TEXT if isinstance(column, TextField) else (column.max_length or 255)
    return _text(value, limit, where)


def _text(value, limit, where):
    if not isinstance(value, str) or len(value) > limit:
        raise BatchInvalid(f"{where}：应为至多 {limit} 个字符的文字")
    return value
