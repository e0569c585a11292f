"""一表申请: checking and normalising the values of a merged application form.

Pure functions over ``merging.FormField`` (field types and prefill sources are
the codes of ``catalogue.vocabulary``). Every problem is reported at once as
``{"field": "form.<code>", "message": "<字段名称>：…"}``, in Chinese.
"""
import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal

from ..catalogue import vocabulary
from ..identity import IdentityError, check_credit_code, check_id_number, check_phone
from ..integers import SQLITE_MIN, NumberError, whole_number
from ..text import TextError, few, quoted, shown, typed_text

TEXT_MAX_LENGTH = 500
MONEY_MAX_DIGITS = 12  # 千亿: beyond any fee or amount a township form asks for
_MONEY = re.compile(r"[0-9]+(\.[0-9]+)?")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CENT = Decimal("0.01")


class _Bad(Exception):
    """A value that does not fit its field; the message follows the field's name."""


def prefill(fields, applicant, agent=None, values=None):
    """The values that fill themselves in (预填来源): {field code: value}.

    A field takes the applicant's attribute its 预填来源 names (``applicant``:
    a dict keyed by the codes of ``vocabulary.PREFILL`` — name, id_number,
    credit_code, legal_representative, phone, address), the agent's
    (``agent``: name, id_number, phone; None when no agent applies), or the
    value of another field of the same form: as typed in ``values``, else as
    that field fills itself in. A blank source, a field not on the form, or
    a source whose condition is still open (the guide settles the ones it
    can: ``facts.settled_fields``) fills nothing; what was typed into a
    field is never replaced here (``check_form`` prefers it).
    """
    applicant, agent, values = applicant or {}, agent or {}, values or {}
    fields = {field.code: field for field in fields}
    resolved = {}

    def value_of(code):
        # Along the 表单 references, iteratively: a catalogue may chain many fields.
        chain, current = [code], code
        while current not in resolved:
            source, condition = vocabulary.prefill_parts(fields[current].prefill)
            source = "" if condition else source or ""  # still waiting for a fact: fills nothing yet
            other = vocabulary.prefill_field(source)
            if other is None:
                if source.startswith(vocabulary.AGENT_SOURCE):
                    value = agent.get(source[len(vocabulary.AGENT_SOURCE):])
                else:
                    value = applicant.get(source) if source else None
                break
            if other not in fields or other in chain:  # not on this form; a cycle (the reader refuses them)
                value = None
                break
            if not _blank(values.get(other)):
                value = values[other]
                break
            chain.append(current := other)
        else:
            value = resolved[current]
        value = None if _blank(value) else value.strip() if isinstance(value, str) else value
        for link in chain:  # the fields on the way were blank: they fill with the same value
            resolved.setdefault(link, value)
        return value

    filled = {}
    for code, field in fields.items():
        if field.prefill and value_of(code) is not None:
            filled[code] = resolved[code]
    return filled


def id_number_fields(fields):
    """The codes of the fields that hold an ID number, to be masked when shown: those of type 身份证号,
    and those filled in from one (a 文本 field taking 申请人.证件号码 shows the whole number too)."""
    fields = {field.code: field for field in fields}
    holding = []
    for code in fields:
        seen, current = {code}, fields[code]
        while current.type != "id_number" and current.prefill not in ("id_number", "agent.id_number"):
            other = vocabulary.prefill_field(current.prefill)
            if other not in fields or other in seen:
                break
            seen.add(other)
            current = fields[other]
        else:
            holding.append(code)
    return holding


def check_form(fields, values, applicant=None, agent=None):
    """Check ``values`` ({field code: value}) against the merged ``fields``; give ``(clean, errors)``.

    Blank values are first filled in from ``applicant``, ``agent`` and the
    other values by the fields' 预填来源 (see ``prefill``). Each
    value is normalised by type: text trimmed; integer an ``int``; money a
    string with two decimals ("1200.50"); date an ISO string; 多选 a list in
    the order of the options; ID number, credit code and phone as the
    identity checks give them. Blank optional fields are left out of
    ``clean``. ``errors`` lists a missing required field, a bad value or an
    unknown field code as ``{"field": "form.<code>", "message"}``.
    """
    values = dict(values or {})
    errors = []
    known = {field.code for field in fields}
    unknown = [code for code in values if code not in known]
    if len(unknown) == 1:
        errors.append(_error(shown(unknown[0]), f"表单中没有编码为 {shown(unknown[0])} 的字段"))
    elif unknown:  # one short error, however many were sent
        errors.append({"field": "form", "message": f"表单中没有这些编码的字段：{few(unknown)}"})
    filled = prefill(fields, applicant, agent, values)
    clean = {}
    for field in fields:
        value = values.get(field.code)
        if _blank(value):
            value = filled.get(field.code)
        if _blank(value):
            if field.required:
                errors.append(_error(field.code, f"{field.name}：此项必填"))
            continue
        try:
            value = _normalise(field, value)
        except _Bad as exc:
            errors.append(_error(field.code, f"{field.name}：{exc}"))
            continue
        if _blank(value):  # nothing but invisible characters, dropped by typed_text
            if field.required:
                errors.append(_error(field.code, f"{field.name}：此项必填"))
            continue
        clean[field.code] = value
    return clean, errors


def _normalise(field, value):
    checker = _CHECKS.get(field.type, _text)
    return checker(field, value)


def _text(field, value):
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise _Bad("应为文字")
    try:
        return typed_text(str(value), "", max_length=TEXT_MAX_LENGTH, required=field.required)
    except TextError as exc:  # the message follows the field's name
        raise _Bad(str(exc)) from None


def _integer(field, value):
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    try:
        return whole_number(value, "", low=SQLITE_MIN)
    except NumberError as exc:
        raise _Bad(str(exc)) from None


def _money(field, value):
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise _Bad(f"应为金额数字，实际为 {_shown(value)}")
    text = _narrow(value).replace(",", "")
    if text.startswith("-"):
        raise _Bad(f"金额不能为负数，实际为 {_shown(value)}")
    if not _MONEY.fullmatch(text):
        raise _Bad(f"应为金额数字（如 1200.50），实际为 {_shown(value)}")
    if len(text.partition(".")[0]) > MONEY_MAX_DIGITS:
        raise _Bad(f"金额超出 {MONEY_MAX_DIGITS} 位整数，实际为 {_shown(value)}")
    amount = Decimal(text)
    if amount != amount.quantize(_CENT):
        raise _Bad(f"金额最多保留两位小数，实际为 {_shown(value)}")
    return str(amount.quantize(_CENT))


def _date(field, value):
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = _narrow(value)
    if not _ISO_DATE.fullmatch(text):
        raise _Bad(f"日期格式应为 YYYY-MM-DD，实际为 {_shown(value)}")
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise _Bad(f"日期 {_shown(value)} 不存在") from None


def _single(field, value):
    if not isinstance(value, str):
        raise _Bad(f"应为选项文字，实际为 {_shown(value)}")
    text = value.strip()
    if field.options and text not in field.options:
        raise _Bad(f"应为 {'、'.join(field.options)} 之一，实际为 {_shown(text)}")
    return text


def _multi(field, value):
    if isinstance(value, str):
        chosen = [part.strip() for part in value.split("|")]
    elif isinstance(value, (list, tuple)) and all(isinstance(part, str) for part in value):
        chosen = [part.strip() for part in value]
    else:
        raise _Bad(f"应为选项列表，实际为 {_shown(value)}")
    chosen = [part for part in dict.fromkeys(chosen) if part]
    if not field.options:
        return chosen
    wrong = [part for part in chosen if part not in field.options]
    if wrong:
        raise _Bad(f"{few(wrong, quote=True)} 不是可选值（可选：{'、'.join(field.options)}）")
    return [option for option in field.options if option in chosen]


def _identity(check):
    def checker(field, value):
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise _Bad(f"应为文字，实际为 {_shown(value)}")
        try:
            result = check(str(value))
        except IdentityError as exc:
            raise _Bad(str(exc)) from None
        return getattr(result, "number", result)

    return checker


_CHECKS = {
    "text": _text,
    "integer": _integer,
    "money": _money,
    "date": _date,
    "single": _single,
    "multi": _multi,
    "id_number": _identity(check_id_number),
    "credit_code": _identity(check_credit_code),
    "phone": _identity(check_phone),
}


def _blank(value):
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple)):
        return not any(not _blank(part) for part in value)
    return False


def _narrow(value):
    """Text with full-width digits and signs (typed in a Chinese input method) made ASCII."""
    return unicodedata.normalize("NFKC", str(value)).strip().replace("。", ".")


def _shown(value):
    return quoted(value)


def _error(code, message):
    return {"field": f"form.{code}", "message": message}
