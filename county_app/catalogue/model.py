"""The catalogue as plain data: what a workbook holds once read and validated.

Enumerated values are the codes of ``vocabulary`` (``instant``, ``required`` …),
never the workbook's Chinese words. Lists keep the workbook's row order.
"""
from dataclasses import dataclass, field
from datetime import date


@dataclass(slots=True)
class CatalogueInfo:
    version: str
    issuer: str = ""
    published_on: date | None = None
    region_code: str = ""


@dataclass(slots=True)
class Matter:
    code: str
    name: str
    kind: str  # vocabulary.MATTER_KINDS code
    department: str
    handling: str  # "instant" | "promised"
    statutory_days: int
    promised_days: int
    visits: int = 0
    fee: str = ""
    result_name: str = ""
    conditions: str = ""
    legal_basis: str = ""
    enabled: bool = True


@dataclass(slots=True)
class Material:
    matter_code: str
    code: str
    name: str
    form: str  # vocabulary.MATERIAL_FORMS code
    copies: int
    medium: str  # vocabulary.MEDIA code
    source: str  # vocabulary.SOURCES code
    necessity: str  # "required" | "optional" | "deferrable"
    waiver: str | None = None  # None | "e_licence" | "data_sharing" | "commitment"
    instructions: str = ""
    # 适用条件: the condition grammar over the bundle's questions and the facts 代办 / 申请人类型; "" = always
    condition: str = ""


@dataclass(slots=True)
class Field:
    matter_code: str
    code: str
    name: str
    type: str  # vocabulary.FIELD_TYPES code
    required: bool
    options: tuple[str, ...] = ()
    # 预填来源: None, an applicant attribute ("name" …), an agent's ("agent.name" …) or "form.<field code>"
    prefill: str | None = None


@dataclass(slots=True)
class Bundle:
    code: str
    name: str
    lead_department: str
    audience: str  # "person" | "company"
    description: str = ""
    enabled: bool = True


@dataclass(slots=True)
class BundleMember:
    bundle_code: str
    matter_code: str
    required: bool
    condition: str = ""  # the condition grammar of catalogue-xlsx.md, "" = always
    position: int = 0


@dataclass(slots=True)
class Question:
    bundle_code: str
    code: str
    text: str
    options: tuple[str, ...]
    condition: str = ""
    position: int = 0


@dataclass(slots=True)
class CalendarDay:
    day: date
    kind: str  # "rest" | "work"
    name: str = ""


@dataclass(slots=True)
class Catalogue:
    info: CatalogueInfo
    matters: list[Matter] = field(default_factory=list)
    materials: list[Material] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    bundles: list[Bundle] = field(default_factory=list)
    members: list[BundleMember] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    calendar: list[CalendarDay] = field(default_factory=list)
