"""The tables of a case (办件): its items, checklist, scans, events, notices, rating and rectification.

A case pins the ``CatalogueVersion`` and the ``MatterRow`` rows it was
registered under, and copies what it needs of them (names, time limits, the
merged checklist), so a later catalogue import changes no open case.

Every change of a case goes through ``events.transition``, which bumps
``Case.version`` (optimistic concurrency) and writes one ``CaseEvent``.

Indexes serve the searches of the window and the lists: case number (unique),
its reversal (the last digits typed, as a prefix range), ID number, credit
code, phone and the agent's phone (exact), any two consecutive characters
of the applicant's or agent's name and its first character
(``CaseNameGram``), status, due dates; items by department and case (what
a department user may see). Full ID numbers
are stored (the case page can reveal them, logged); lists and searches only
ever show them masked.
"""
from peewee import (
    SQL,
    BooleanField,
    CharField,
    CompositeKey,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from ..db import BooleanDefault, PortableSchemaManager
from ..models import BaseModel, CatalogueVersion, MatterRow, User, utcnow
from ..prepared import Prepared


class CaseNumberCounter(BaseModel):
    """The last sequence number used for one centre and day (``prefix`` = centre code + YYYYMMDD)."""
    prefix = CharField(max_length=20, unique=True)
    last = IntegerField(default=0)


class Case(BaseModel):
    case_no = CharField(max_length=32, unique=True)
    catalogue = ForeignKeyField(CatalogueVersion, on_delete="RESTRICT")
    bundle_code = CharField(max_length=40, null=True)
    bundle_name = CharField(default="")
    status = CharField(max_length=16, index=True)  # registered|correction|accepted|concluded|delivered|rejected
    version = IntegerField(default=1)  # bumped by every change (events.transition)
    # applicant: a person (id_number) or a company (credit_code)
    applicant_kind = CharField(max_length=8)  # "person" | "company"
    applicant_name = CharField(max_length=200)  # found by CaseNameGram (its index went in 0007)
    id_number = CharField(max_length=18, null=True, index=True)
    credit_code = CharField(max_length=18, null=True, index=True)
    legal_representative = CharField(default="")
    phone = CharField(max_length=11, index=True)
    address = TextField(default="")
    agent = TextField(default="")  # JSON {"name", "id_number", "phone", "relation"} or ""
    answers = TextField(default="{}")  # JSON {question code: answer}
    form = TextField(default="{}")  # JSON of the cleaned form values
    id_fields = TextField(default="[]")  # JSON: codes of the form's 身份证号 fields (masked when shown)
    registered_at = DateTimeField(default=utcnow)
    registered_on = DateField(index=True)  # the centre's local date
    registered_by = CharField()
    accepted_on = DateField(null=True)
    due_date = DateField(null=True, index=True)  # the latest item's due date
    due_complete = BooleanField(default=True)  # False: the holiday calendar lacked a year on the way
    correction_count = IntegerField(default=0)
    rejected_reason = TextField(default="")
    concluded_at = DateTimeField(null=True)
    delivered_at = DateTimeField(null=True)
    delivery_method = CharField(max_length=8, null=True)  # "window" | "mail"
    tracking_no = CharField(default="")
    concluded_on = DateField(null=True)  # the centre's local date of concluded_at (added by migration 0008)
    # For the searches (lists.py); added by migration 0011, hence last and with SQL defaults.
    agent_phone = CharField(max_length=11, default="", index=True, constraints=[SQL("DEFAULT ''")])
    case_no_reversed = CharField(max_length=32, default="", index=True, constraints=[SQL("DEFAULT ''")])

    class Meta:
        table_name = "case_record"  # "case" is an SQL keyword


class CaseNameGram(BaseModel):
    """Two consecutive characters of the applicant's or agent's name of a case (``namesearch``).

    Keyed (gram, case) without a rowid: a search reads one gram's cases
    newest first from the key alone. Written with the case, never changed
    (a case's names are not edited, nor cases deleted).
    """
    gram = CharField(max_length=2)
    case = ForeignKeyField(Case, on_delete="CASCADE", index=False)

    class Meta:
        table_name = "case_name_gram"
        primary_key = CompositeKey("gram", "case")
        without_rowid = True
        schema_manager_class = PortableSchemaManager


class CaseItem(BaseModel):
    """One matter of a case, pinned to the ``MatterRow`` it was registered under."""
    case = ForeignKeyField(Case, backref="items", on_delete="CASCADE")
    matter = ForeignKeyField(MatterRow, on_delete="RESTRICT")
    matter_code = CharField(max_length=40)
    name = CharField()
    department = CharField()
    handling = CharField(max_length=16)  # "instant" | "promised"
    statutory_days = IntegerField()
    promised_days = IntegerField()
    position = IntegerField(default=0)
    status = CharField(max_length=16, default="pending")  # pending|suspended|approved|denied
    due_date = DateField(null=True)
    suspended_since = DateField(null=True)
    suspended_days = IntegerField(default=0)  # working days the clock stood still (第45条)
    result_no = CharField(default="")
    result_note = TextField(default="")
    result_at = DateTimeField(null=True)
    result_by = CharField(default="")
    # False: a year on the way to due_date had no published 调休 when it was computed (shown flagged)
    due_complete = BooleanField(default=True, constraints=[BooleanDefault(True)])

    class Meta:
        table_name = "case_item"
        indexes = (
            (("case", "matter_code"), True),
            (("status", "due_date"), False),  # the overdue and due-soon boards
            (("department", "case"), False),  # which cases a department may see (visibility)
        )

    @classmethod
    def of_case(cls, case_id):
        """The items of a case, in the order registered."""
        return _ITEMS_OF_CASE.rows(case_id)


class Suspension(BaseModel):
    """A stop of an item's clock (听证, 检验, 鉴定, 现场踏勘 … 行政许可法 第45条)."""
    item = ForeignKeyField(CaseItem, backref="suspensions", on_delete="CASCADE")
    reason = CharField(max_length=16)
    note = TextField(default="")
    started_on = DateField()
    started_by = CharField()
    ended_on = DateField(null=True)
    ended_by = CharField(default="")
    working_days = IntegerField(default=0)

    class Meta:
        table_name = "case_suspension"


class Scan(BaseModel):
    """A stored file, once per content: ``<data>/scans/ab/abcdef….pdf`` named by its SHA-256."""
    sha256 = CharField(max_length=64, unique=True)
    kind = CharField(max_length=8)  # "pdf" | "jpeg" | "png" | "tiff"
    size = IntegerField()
    pages = IntegerField()
    path = CharField()  # relative to the data folder, with "/"
    stored_at = DateTimeField(default=utcnow)
    stored_by = CharField()

    class Meta:
        table_name = "scan"


class CaseMaterial(BaseModel):
    """One entry of a case's checklist (one per merged material code) and how it was supplied."""
    case = ForeignKeyField(Case, backref="materials", on_delete="CASCADE")
    code = CharField(max_length=40)
    name = CharField()
    necessity = CharField(max_length=16)  # "required" | "deferrable" | "optional"
    form = CharField(max_length=24)  # "original" | "copy" | "original_and_copy"
    copies = IntegerField(default=1)  # copies the catalogue asks for
    waiver = CharField(max_length=16, null=True)  # the 免提交方式 the catalogue allows
    instructions = TextField(default="")
    matters = TextField(default="[]")  # JSON: codes of the matters that ask for it
    position = IntegerField(default=0)
    status = CharField(max_length=20, default="missing")
    trust_level = CharField(max_length=1, null=True)  # A|B|C|D (国办函〔2016〕108号)
    copies_received = IntegerField(null=True)
    pages = IntegerField(null=True)
    licence_no = CharField(default="")  # e-licence number or data-sharing query number
    note = TextField(default="")
    deferred_until = DateField(null=True)
    logged_at = DateTimeField(null=True)
    logged_by = CharField(default="")
    # False: deferred_until was counted into a year whose 调休 was not published (shown flagged)
    deferred_complete = BooleanField(default=True, constraints=[BooleanDefault(True)])
    # When a single matter asks it only in a situation no bundle asked about (in words,
    # e.g. 「新生儿父母的婚姻状况」答“已婚”时提交): then listed, marked so, and not required.
    condition = TextField(default="", constraints=[SQL("DEFAULT ''")])

    class Meta:
        table_name = "case_material"
        indexes = ((("case", "code"), True),)

    @classmethod
    def of_case(cls, case_id):
        """The checklist of a case, in its order."""
        return _MATERIALS_OF_CASE.rows(case_id)

    @classmethod
    def entry(cls, case_id, code):
        """The checklist entry ``code`` of a case, or None."""
        return _MATERIAL_ENTRY.first(case_id, code)


class MaterialScan(BaseModel):
    """A scan attached to a checklist entry (a material may have several files)."""
    material = ForeignKeyField(CaseMaterial, backref="scans", on_delete="CASCADE")
    scan = ForeignKeyField(Scan, on_delete="RESTRICT")
    filename = CharField(default="")
    attached_at = DateTimeField(default=utcnow)
    attached_by = CharField()

    class Meta:
        table_name = "case_material_scan"


class CaseEvent(BaseModel):
    """One change of a case; ``id`` is the strictly increasing sequence number."""
    case = ForeignKeyField(Case, backref="events", on_delete="CASCADE")
    at = DateTimeField(default=utcnow, index=True)  # a day's events, reconciled (sync/reconcile.py; 0015)
    actor = CharField()
    action = CharField(max_length=32)
    from_status = CharField(max_length=16, default="")
    to_status = CharField(max_length=16)
    detail = TextField(default="")  # JSON
    # the client's key for the request that wrote this event (a form's request_key, Idempotency-Key)
    request_key = CharField(max_length=64, null=True, unique=True)

    class Meta:
        table_name = "case_event"


class Notice(BaseModel):
    """A notice issued for a case: 收件回执, 受理通知书, 一次性补正告知书, 不予受理通知书, 办结通知书."""
    case = ForeignKeyField(Case, backref="notices", on_delete="CASCADE")
    kind = CharField(max_length=16)  # receipt|acceptance|correction|rejection|completion
    number = CharField(max_length=40, unique=True)  # case number + "-" + two-digit sequence
    issued_at = DateTimeField(default=utcnow)
    issued_on = DateField()
    issued_by = CharField()
    deadline = DateField(null=True)  # correction: the date to supply the missing materials by
    content = TextField(default="{}")  # JSON, e.g. {"materials": [{"code", "name"}], "override_reason"}

    class Meta:
        table_name = "case_notice"
        indexes = ((("case", "kind"), False),)


class Evaluation(BaseModel):
    """The 好差评 rating of a case (once): 5 非常满意 … 1 非常不满意."""
    case = ForeignKeyField(Case, backref="evaluations", unique=True, on_delete="CASCADE")
    rating = IntegerField()
    comment = TextField(default="")
    at = DateTimeField(default=utcnow)
    recorded_by = CharField()

    class Meta:
        table_name = "case_evaluation"


class Rectification(BaseModel):
    """The follow-up of a 差评 (rating ≤ 2): call back, verify, rectify, by ``due_date``."""
    case = ForeignKeyField(Case, backref="rectifications", on_delete="CASCADE")
    evaluation = ForeignKeyField(Evaluation, unique=True, on_delete="CASCADE")
    opened_at = DateTimeField(default=utcnow)
    opened_on = DateField()
    due_date = DateField()
    status = CharField(max_length=8, default="open")  # "open" | "closed"
    closed_at = DateTimeField(null=True)
    closed_by = CharField(default="")
    resolution = TextField(default="")
    due_complete = BooleanField(default=True, constraints=[BooleanDefault(True)])  # as CaseItem.due_complete

    class Meta:
        table_name = "rectification"
        indexes = ((("status", "due_date"), False),)


class IntakeDraft(BaseModel):
    """What a clerk typed on the intake page when 登记 was refused, shown again by a GET (``drafts``)."""
    token = CharField(max_length=32, unique=True)
    user = ForeignKeyField(User, on_delete="CASCADE")
    saved_at = DateTimeField(default=utcnow)
    form = TextField(default="[]")  # JSON [[field name, value], …] as posted
    problems = TextField(default="[]")  # JSON [{"field", "message"}]
    message = TextField(default="")
    case_no = CharField(max_length=32, default="")  # set once the draft was registered

    class Meta:
        table_name = "intake_draft"


_ITEMS_OF_CASE = Prepared(lambda case_id: CaseItem.select().where(CaseItem.case == case_id)
                          .order_by(CaseItem.position, CaseItem.id))
_MATERIALS_OF_CASE = Prepared(lambda case_id: CaseMaterial.select().where(CaseMaterial.case == case_id)
                              .order_by(CaseMaterial.position, CaseMaterial.id))
_MATERIAL_ENTRY = Prepared(lambda case_id, code: CaseMaterial.select()
                           .where((CaseMaterial.case == case_id) & (CaseMaterial.code == code)))

MODELS = [
    IntakeDraft,
    CaseNumberCounter,
    Case,
    CaseNameGram,
    CaseItem,
    Suspension,
    Scan,
    CaseMaterial,
    MaterialScan,
    CaseEvent,
    Notice,
    Evaluation,
    Rectification,
]
