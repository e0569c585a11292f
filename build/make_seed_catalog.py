"""Generate the bundled seed catalogue workbook from its reviewable text source.

    .venv/bin/python build/make_seed_catalog.py [--source TOML] [--output PATH]

``build/seed_catalog.toml`` is what county officers review and edit: each
shared material and form field is defined once by code, matters refer to them
(with per-matter overrides), bundles list their situation questions and
members, holidays are given as date ranges. Every matter cites the legal
basis of its time limits (``time_basis``, written into 设定依据 after
``basis``); a limit that could not be checked says ``UNVERIFIED``. ``load_seed`` expands that into a
``county_app.catalogue.model.Catalogue`` (one row per matter and material,
per matter and field; positions from the order in the file), checking the
workbook contract on the way so that mistakes are reported against the TOML,
all at once. ``main`` writes the workbook with ``xlsx_write.write_workbook``.
"""
import argparse
import re
import sys
import tomllib
import zipfile
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # runnable from a checkout without installing the package
    sys.path.insert(0, str(REPO))

from county_app.catalogue import conditions, vocabulary  # noqa: E402
from county_app.catalogue.xlsx_columns import CellError, prefill_source  # noqa: E402
from county_app.catalogue.model import (  # noqa: E402
    Bundle, BundleMember, CalendarDay, Catalogue, CatalogueInfo, Field, Material, Matter, Question,
)

DEFAULT_SOURCE = Path(__file__).resolve().with_name("seed_catalog.toml")
DEFAULT_OUTPUT = REPO / "seed_catalog.xlsx"

MATTER_CODE = re.compile(r"[0-9A-Za-z-]{1,40}")
REGION_CODE = re.compile(r"[0-9]{6}|[0-9]{12}")
# Characters with a meaning in the condition grammar cannot appear in an option.
OPTION_FORBIDDEN = re.compile(r"[|;=!]")

CATALOGUE_KEYS = {"version", "issuer", "published_on", "region_code"}
MATERIAL_KEYS = {"name", "type", "copies", "form", "source", "necessity", "waiver", "note", "condition"}
MATERIAL_OVERRIDES = (MATERIAL_KEYS - {"name"}) | {"code"}
FIELD_KEYS = {"name", "type", "options", "prefill", "required"}
FIELD_OVERRIDES = {"code", "required"}
MATTER_KEYS = {
    "code", "name", "kind", "department", "handling", "statutory_days", "promised_days", "visits",
    "fee", "result", "conditions", "basis", "time_basis", "status", "materials", "fields",
}
MATTER_REQUIRED = ("code", "name", "kind", "department", "handling", "statutory_days", "promised_days",
                   "basis", "time_basis")
# How 设定依据 introduces the basis of the time limits, and how a limit not checked against its basis is marked.
TIME_BASIS = "。办结时限："
UNVERIFIED = "（待核实）"
BUNDLE_KEYS = {"code", "name", "lead", "audience", "description", "status", "questions", "members"}
QUESTION_KEYS = {"code", "text", "options", "show_if"}
MEMBER_KEYS = {"matter", "membership", "condition"}
HOLIDAY_KEYS = {"name", "rest", "work"}
TOP_KEYS = {"catalogue", "materials", "fields", "matters", "bundles", "holidays"}


class SeedError(ValueError):
    """The TOML source breaks a rule; ``problems`` lists every one found."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("seed catalogue has errors:\n" + "\n".join(f"  - {p}" for p in self.problems))


class _Loader:
    def __init__(self, data):
        self.data = data
        self.problems: list[str] = []

    # --- helpers -----------------------------------------------------------

    def problem(self, where, message):
        self.problems.append(f"{where}: {message}")

    def keys(self, table, allowed, where):
        if not isinstance(table, dict):
            self.problem(where, "must be a table")
            return False
        for key in sorted(set(table) - allowed):
            self.problem(where, f"unknown key {key!r} (allowed: {', '.join(sorted(allowed))})")
        return True

    def word(self, vocabulary_table, value, where, label, blank=None):
        """The code of a catalogue word (e.g. 即办件 -> instant); ``blank`` for an empty value."""
        if value is None or value == "":
            return blank
        if value not in vocabulary_table:
            self.problem(where, f"{label} {value!r} is not one of {'、'.join(vocabulary_table)}")
            return blank
        return vocabulary_table[value]

    def prefill(self, value, where):
        """The code of a 预填来源 as the workbook's cell reads it: an applicant or agent attribute, or
        表单.<field code>, optionally with a condition (申请人.姓名（当 Q5=母亲）); None for blank."""
        if value is None or value == "":
            return None
        try:
            return prefill_source(value)
        except CellError as error:
            self.problem(where, f"prefill {value!r}: 预填来源{error}")
            return None

    def text(self, table, key, where, required=False):
        value = table.get(key, "")
        if not isinstance(value, str):
            self.problem(where, f"{key} must be text, got {value!r}")
            return ""
        value = value.strip()
        if required and not value:
            self.problem(where, f"{key} is required")
        return value

    def integer(self, table, key, where, low, high=None, default=None):
        value = table.get(key, default)
        if value is None:
            self.problem(where, f"{key} is required")
            return low
        if type(value) is not int or value < low or (high is not None and value > high):
            bound = f"{low}–{high}" if high is not None else f"≥ {low}"
            self.problem(where, f"{key} must be an integer {bound}, got {value!r}")
            return low
        return value

    def options(self, values, where):
        if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
            self.problem(where, "options must be a list of non-empty texts")
            return ()
        values = tuple(v.strip() for v in values)
        for value in values:
            if OPTION_FORBIDDEN.search(value):
                self.problem(where, f"option {value!r} may not contain | ; = !")
        if len(set(values)) != len(values):
            self.problem(where, "options repeat a value")
        return values

    def condition(self, text, questions, where, label):
        """Check a condition against ``questions`` ({code: options}); the references it makes."""
        try:
            clauses = conditions.parse(text)
        except conditions.ConditionError as error:
            self.problem(where, f"{label} {text!r}: {error}")
            return set()
        for clause in clauses:
            if clause.question not in questions:
                self.problem(where, f"{label} {text!r} refers to unknown or later question {clause.question!r}")
                continue
            unknown = sorted(clause.values - set(questions[clause.question]))
            if unknown:
                self.problem(where, f"{label} {text!r}: question {clause.question!r} has no option "
                                    f"{'、'.join(unknown)} (options: {'|'.join(questions[clause.question])})")
        return conditions.referenced(clauses)

    # --- sections ----------------------------------------------------------

    def load(self) -> Catalogue:
        for key in sorted(set(self.data) - TOP_KEYS):
            self.problem("file", f"unknown top-level key {key!r}")
        info = self.catalogue_info(self.data.get("catalogue", {}))
        materials = self.material_definitions(self.data.get("materials", {}))
        fields = self.field_definitions(self.data.get("fields", {}))
        catalogue = Catalogue(info=info)
        self.matters(self.data.get("matters", []), materials, fields, catalogue)
        used = self.bundles(self.data.get("bundles", []), catalogue)
        self.material_conditions(catalogue, used)
        catalogue.calendar = self.holidays(self.data.get("holidays", []))
        self.unused(materials, fields, catalogue)
        if self.problems:
            raise SeedError(self.problems)
        return catalogue

    def catalogue_info(self, table):
        where = "[catalogue]"
        self.keys(table, CATALOGUE_KEYS, where)
        version = self.text(table, "version", where, required=True)
        published = table.get("published_on")
        if published is not None and type(published) is not date:
            self.problem(where, f"published_on must be a TOML date (2026-11-20), got {published!r}")
            published = None
        region = self.text(table, "region_code", where)
        if region and not REGION_CODE.fullmatch(region):
            self.problem(where, f"region_code must be 6 or 12 digits, got {region!r}")
        return CatalogueInfo(version=version, issuer=self.text(table, "issuer", where),
                             published_on=published, region_code=region)

    def material_definitions(self, tables):
        definitions = {}
        names = {}
        for code, table in tables.items():
            where = f"[materials.{code}]"
            if not self.keys(table, MATERIAL_KEYS, where):
                continue
            name = self.text(table, "name", where, required=True)
            if name in names:
                self.problem(where, f"name {name!r} is already material {names[name]} (one code per document)")
            names[name] = code
            definitions[code] = {"name": name, **self.material_attributes(table, where, {})}
        return definitions

    def material_attributes(self, table, where, base):
        """The material's per-matter attributes: ``table``'s values over ``base``'s."""
        merged = {**base}
        for key in MATERIAL_KEYS - {"name"}:
            if key in table:
                merged[key] = table[key]
        result = {
            "form": self.word(vocabulary.MATERIAL_FORMS, merged.get("type"), where, "type"),
            "copies": self.integer(merged, "copies", where, 1),
            "medium": self.word(vocabulary.MEDIA, merged.get("form"), where, "form"),
            "source": self.word(vocabulary.SOURCES, merged.get("source"), where, "source"),
            "necessity": self.word(vocabulary.NECESSITY, merged.get("necessity", "必要"), where, "necessity"),
            "waiver": self.word(vocabulary.WAIVERS, merged.get("waiver", ""), where, "waiver"),
            "instructions": self.text(merged, "note", where),
            "condition": self.text(merged, "condition", where),
        }
        for key, label in (("form", "type"), ("medium", "form"), ("source", "source")):
            if result[key] is None and label not in merged:
                self.problem(where, f"{label} is required")
        # Keep the raw words too, so overrides start from the shared definition's words.
        result["_raw"] = {k: merged[k] for k in MATERIAL_KEYS - {"name"} if k in merged}
        return result

    def field_definitions(self, tables):
        definitions = {}
        names = {}
        for code, table in tables.items():
            where = f"[fields.{code}]"
            if not self.keys(table, FIELD_KEYS, where):
                continue
            name = self.text(table, "name", where, required=True)
            if name in names:
                self.problem(where, f"name {name!r} is already field {names[name]}")
            names[name] = code
            kind = self.word(vocabulary.FIELD_TYPES, table.get("type"), where, "type")
            if kind is None and "type" not in table:
                self.problem(where, "type is required")
            options = self.options(table["options"], where) if "options" in table else ()
            if kind in ("single", "multi") and not options:
                self.problem(where, "a 单选/多选 field needs options")
            if kind not in ("single", "multi") and options:
                self.problem(where, "only 单选/多选 fields take options")
            required = table.get("required", True)
            if type(required) is not bool:
                self.problem(where, "required must be true or false")
                required = True
            definitions[code] = {
                "name": name, "type": kind, "options": options, "required": required,
                "prefill": self.prefill(table.get("prefill", ""), where),
            }
        return definitions

    def matters(self, entries, materials, fields, catalogue):
        seen = set()
        for number, table in enumerate(entries, 1):
            code = table.get("code", "") if isinstance(table, dict) else ""
            where = f"[[matters]] #{number} {code}".rstrip()
            if not self.keys(table, MATTER_KEYS, where):
                continue
            for key in MATTER_REQUIRED:
                if key not in table:
                    self.problem(where, f"{key} is required")
            code = self.text(table, "code", where, required=True)
            if code and not MATTER_CODE.fullmatch(code):
                self.problem(where, f"code {code!r} must be 1–40 of 0-9 A-Z a-z -")
            if code in seen:
                self.problem(where, f"code {code!r} repeats an earlier matter")
            seen.add(code)
            handling = self.word(vocabulary.HANDLING, table.get("handling"), where, "handling")
            statutory = self.integer(table, "statutory_days", where, 0)
            promised = self.integer(table, "promised_days", where, 0)
            if promised > statutory:
                self.problem(where, f"promised_days {promised} exceeds statutory_days {statutory}")
            # An 即办件 is decided on the spot (承诺 0) even where the law allows days (法定 > 0).
            if handling == "instant" and promised:
                self.problem(where, "an 即办件 has promised_days = 0")
            if handling == "promised" and promised == 0:
                self.problem(where, "an 承诺件 needs promised_days > 0")
            catalogue.matters.append(Matter(
                code=code,
                name=self.text(table, "name", where, required=True),
                kind=self.word(vocabulary.MATTER_KINDS, table.get("kind"), where, "kind"),
                department=self.text(table, "department", where, required=True),
                handling=handling,
                statutory_days=statutory,
                promised_days=promised,
                visits=self.integer(table, "visits", where, 0, 5, default=0),
                fee=self.text(table, "fee", where),
                result_name=self.text(table, "result", where),
                conditions=self.text(table, "conditions", where),
                legal_basis=self.text(table, "basis", where, required=True) + TIME_BASIS
                + self.text(table, "time_basis", where, required=True),
                enabled=self.word(vocabulary.STATUS, table.get("status", "启用"), where, "status", blank=True),
            ))
            self.matter_materials(code, table.get("materials", []), materials, where, catalogue)
            self.matter_fields(code, table.get("fields", []), fields, where, catalogue)

    def matter_materials(self, matter, entries, definitions, where, catalogue):
        if not entries:
            self.problem(where, "lists no materials")
        seen = set()
        for entry in entries:
            override = {"code": entry} if isinstance(entry, str) else entry
            if not self.keys(override, MATERIAL_OVERRIDES, f"{where} material {override!r}"):
                continue
            code = override.get("code")
            at = f"{where} material {code}"
            if code not in definitions:
                self.problem(at, "is not defined in [materials]")
                continue
            if code in seen:
                self.problem(at, "is listed twice")
            seen.add(code)
            shared = definitions[code]
            attributes = (self.material_attributes(override, at, shared["_raw"])
                          if len(override) > 1 else shared)
            catalogue.materials.append(Material(
                matter_code=matter, code=code, name=shared["name"],
                **{k: v for k, v in attributes.items() if k not in ("_raw", "name")},
            ))

    def matter_fields(self, matter, entries, definitions, where, catalogue):
        if not entries:
            self.problem(where, "lists no form fields")
        seen = set()
        for entry in entries:
            override = {"code": entry} if isinstance(entry, str) else entry
            if not self.keys(override, FIELD_OVERRIDES, f"{where} field {override!r}"):
                continue
            code = override.get("code")
            at = f"{where} field {code}"
            if code not in definitions:
                self.problem(at, "is not defined in [fields]")
                continue
            if code in seen:
                self.problem(at, "is listed twice")
            seen.add(code)
            shared = definitions[code]
            required = override.get("required", shared["required"])
            if type(required) is not bool:
                self.problem(at, "required must be true or false")
                required = True
            catalogue.fields.append(Field(
                matter_code=matter, code=code, name=shared["name"], type=shared["type"],
                required=required, options=shared["options"], prefill=shared["prefill"],
            ))

    def bundles(self, entries, catalogue):
        """Bundles, questions and members; gives {bundle: (questions' options, codes used by conditions)}."""
        matters = {matter.code: matter for matter in catalogue.matters}
        seen = set()
        bundles = {}
        for number, table in enumerate(entries, 1):
            code = table.get("code", "") if isinstance(table, dict) else ""
            where = f"[[bundles]] #{number} {code}".rstrip()
            if not self.keys(table, BUNDLE_KEYS, where):
                continue
            code = self.text(table, "code", where, required=True)
            if code in seen:
                self.problem(where, f"code {code!r} repeats an earlier bundle")
            seen.add(code)
            catalogue.bundles.append(Bundle(
                code=code,
                name=self.text(table, "name", where, required=True),
                lead_department=self.text(table, "lead", where, required=True),
                audience=self.word(vocabulary.AUDIENCES, table.get("audience"), where, "audience"),
                description=self.text(table, "description", where),
                enabled=self.word(vocabulary.STATUS, table.get("status", "启用"), where, "status", blank=True),
            ))
            asked = {}  # question code -> options, in order: a display condition may only look back
            used = set()
            for position, question in enumerate(table.get("questions", []), 1):
                at = f"{where} question #{position}"
                if not self.keys(question, QUESTION_KEYS, at):
                    continue
                qcode = self.text(question, "code", at, required=True)
                if conditions.QUESTION_CODE_FORBIDDEN.search(qcode):
                    self.problem(at, f"code {qcode!r} may not contain blanks or = ! ; |")
                if qcode in asked:
                    self.problem(at, f"code {qcode!r} repeats an earlier question")
                options = self.options(question.get("options", []), at)
                if len(options) < 2:
                    self.problem(at, "a question needs at least two options")
                show_if = self.text(question, "show_if", at)
                used |= self.condition(show_if, asked, at, "show_if")
                asked[qcode] = options
                catalogue.questions.append(Question(
                    bundle_code=code, code=qcode, text=self.text(question, "text", at, required=True),
                    options=options, condition=show_if, position=position,
                ))
            members = set()
            for position, member in enumerate(table.get("members", []), 1):
                at = f"{where} member #{position}"
                if not self.keys(member, MEMBER_KEYS, at):
                    continue
                matter = self.text(member, "matter", at, required=True)
                if matter not in matters:
                    self.problem(at, f"matter {matter!r} is not in [[matters]]")
                elif not matters[matter].enabled:
                    self.problem(at, f"matter {matter!r} is 停用 and cannot be a member")
                if matter in members:
                    self.problem(at, f"matter {matter!r} is listed twice")
                members.add(matter)
                if "membership" not in member:
                    self.problem(at, "membership (必选/可选) is required")
                condition = self.text(member, "condition", at)
                used |= self.condition(condition, asked, at, "condition")
                catalogue.members.append(BundleMember(
                    bundle_code=code, matter_code=matter,
                    required=self.word(vocabulary.MEMBERSHIP, member.get("membership"), at, "membership",
                                       blank=True),
                    condition=condition, position=position,
                ))
            if not members:
                self.problem(where, "has no members")
            bundles[code] = (where, asked, used)
        return bundles

    def material_conditions(self, catalogue, bundles):
        """Material conditions, and those of a conditional 预填来源, name the facts or a question of a bundle
        holding the matter; every question is used."""
        holders = {}
        for member in catalogue.members:
            holders.setdefault(member.matter_code, []).append(member.bundle_code)
        conditional = [(f"matter {m.matter_code} material {m.code}", m.matter_code, m.condition)
                       for m in catalogue.materials if m.condition]
        conditional += [(f"matter {f.matter_code} field {f.code}", f.matter_code, vocabulary.prefill_parts(f.prefill)[1])
                        for f in catalogue.fields if vocabulary.prefill_parts(f.prefill)[1]]
        for where, matter, condition in conditional:
            try:
                clauses = conditions.parse(condition)
            except conditions.ConditionError as error:
                self.problem(where, f"condition {condition!r}: {error}")
                continue
            for clause in clauses:
                if clause.question in conditions.FACTS:
                    options = conditions.FACTS[clause.question]
                else:
                    held = [bundles[b] for b in holders.get(matter, []) if b in bundles]
                    options = [o for _, asked, _ in held for o in asked.get(clause.question, ())]
                    for _, asked, used in held:
                        if clause.question in asked:
                            used.add(clause.question)
                    if not options:
                        self.problem(where, f"condition {condition!r} names {clause.question!r}, a question "
                                            f"of no bundle holding the matter (nor {'/'.join(conditions.FACTS)})")
                        continue
                unknown = sorted(clause.values - set(options))
                if unknown:
                    self.problem(where, f"condition {condition!r}: {clause.question!r} has no value "
                                        f"{'、'.join(unknown)} (values: {'|'.join(dict.fromkeys(options))})")
        for where, asked, used in bundles.values():
            for qcode in asked:
                if qcode not in used:
                    self.problem(where, f"question {qcode!r} is used by no condition")

    def holidays(self, entries):
        days = {}
        for number, table in enumerate(entries, 1):
            where = f"[[holidays]] #{number} {table.get('name', '') if isinstance(table, dict) else ''}"
            if not self.keys(table, HOLIDAY_KEYS, where):
                continue
            name = self.text(table, "name", where, required=True)
            rest = table.get("rest", [])
            if rest:
                if (len(rest) != 2 or not all(type(d) is date for d in rest) or rest[0] > rest[1]):
                    self.problem(where, "rest must be [first day, last day] as TOML dates")
                    rest = []
                else:
                    first, last = rest
                    rest = [first + timedelta(days=n) for n in range((last - first).days + 1)]
            work = table.get("work", [])
            if not all(type(d) is date for d in work):
                self.problem(where, "work must be a list of TOML dates")
                work = []
            for day, kind in [(d, "rest") for d in rest] + [(d, "work") for d in work]:
                if day in days:
                    self.problem(where, f"{day.isoformat()} is already listed")
                days[day] = CalendarDay(day=day, kind=kind, name=name)
        return [days[day] for day in sorted(days)]

    def unused(self, materials, fields, catalogue):
        used_materials = {material.code for material in catalogue.materials}
        for code in materials:
            if code not in used_materials:
                self.problem(f"[materials.{code}]", "is asked by no matter")
        used_fields = {field.code for field in catalogue.fields}
        for code in fields:
            if code not in used_fields:
                self.problem(f"[fields.{code}]", "is used by no matter")


def load_seed(toml_path=DEFAULT_SOURCE) -> Catalogue:
    """Read the TOML source into a Catalogue; raises SeedError listing every problem found."""
    with open(toml_path, "rb") as source:
        data = tomllib.load(source)
    return _Loader(data).load()


def summary(catalogue: Catalogue) -> str:
    stopped = sum(1 for matter in catalogue.matters if not matter.enabled)
    return (
        f"目录版本 {catalogue.info.version}: "
        f"{len(catalogue.matters)} matters ({stopped} 停用), "
        f"{len(catalogue.materials)} material rows ({len({m.code for m in catalogue.materials})} codes), "
        f"{len(catalogue.fields)} field rows ({len({f.code for f in catalogue.fields})} codes), "
        f"{len(catalogue.bundles)} bundles ({len(catalogue.members)} members, "
        f"{len(catalogue.questions)} questions), "
        f"{len(catalogue.calendar)} calendar days"
    )


_W3CDTF = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def make_reproducible(path, when: date) -> None:
    """Pin the workbook's timestamps to ``when`` so the same source gives the same bytes.

    openpyxl stamps the ZIP entries and docProps/core.xml with the time of
    writing; regenerating an unchanged catalogue would then show as a change.
    """
    stamp = f"{when.isoformat()}T00:00:00Z".encode()
    with zipfile.ZipFile(path) as original:
        entries = [(info, original.read(info.filename)) for info in original.infolist()]
    with zipfile.ZipFile(path, "w") as rewritten:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                data = _W3CDTF.sub(lambda m: m.group(1) + stamp + m.group(2), data)
            pinned = zipfile.ZipInfo(info.filename, date_time=(when.year, when.month, when.day, 0, 0, 0))
            pinned.compress_type = info.compress_type
            pinned.external_attr = info.external_attr
            rewritten.writestr(pinned, data)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="the TOML source")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="the workbook to write")
    args = parser.parse_args(argv)
    try:
        catalogue = load_seed(args.source)
    except SeedError as error:
        print(error, file=sys.stderr)
        return 1
    from county_app.catalogue.xlsx_write import write_workbook

    write_workbook(catalogue, args.output)
    make_reproducible(args.output, catalogue.info.published_on or date(2026, 1, 1))
    print(f"wrote {args.output}")
    print(summary(catalogue))
    return 0


if __name__ == "__main__":
    sys.exit(main())
