"""Tables. Queries that belong to one table live on its model.

Catalogue rows belong to the ``CatalogueVersion`` they were imported with: a
new import adds a new set and leaves the old ones, so a case registered under
an older version keeps its rules. The version in force is the newest one.
"""
from datetime import datetime, timezone

from peewee import (
    SQL,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from .db import BooleanDefault, db
from .prepared import Prepared


def utcnow():
    return datetime.now(timezone.utc)


def as_utc(moment):
    """``moment`` as an aware UTC datetime (naive ones are taken as UTC; None is now)."""
    if moment is None:
        return utcnow()
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False
        only_save_dirty = True  # an UPDATE writes the changed columns only (new rows: every column)


class SchemaMigration(BaseModel):
    name = CharField(unique=True)
    applied_at = DateTimeField(default=utcnow)


class Setting(BaseModel):
    key = CharField(unique=True)
    value = TextField()


class User(BaseModel):
    username = CharField(unique=True, max_length=64)
    display_name = CharField(default="")
    role = CharField(max_length=16)  # access.ROLES
    department = CharField(null=True)  # only for the department role
    phone = CharField(default="")
    password_hash = CharField(null=True)
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)
    # A password someone else has seen (a reset, a generated one): changed at the next login.
    # The SQL default lets migration 0005 add the column to existing rows.
    must_change_password = BooleanField(default=False, constraints=[BooleanDefault(False)])

    @classmethod
    def by_id(cls, user_id):
        """The user with this id (active or not), or None: the lookup of every logged-in request."""
        return _USER_BY_ID.first(user_id)


_USER_BY_ID = Prepared(lambda user_id: User.select().where(User.id == user_id))


class LoginSession(BaseModel):
    """A browser's login: its cookie holds a random id whose SHA-256 is ``token_hash`` (sessions.py)."""

    user = ForeignKeyField(User, backref="sessions", on_delete="CASCADE")
    token_hash = CharField(unique=True, max_length=64)
    source = CharField(default="")  # the client address at login
    created_at = DateTimeField(default=utcnow)
    last_seen_at = DateTimeField(default=utcnow)
    ended_at = DateTimeField(null=True)


class LoginThrottle(BaseModel):
    """Failed logins counted per client address, and per address and typed name (throttle.py).

    ``key`` is a keyed hash (HMAC) of what is counted: the typed name is never
    stored. Times are POSIX seconds.
    """

    key = CharField(unique=True, max_length=64)
    address = CharField(default="")
    name_key = CharField(null=True, index=True, max_length=64)  # keyed hash of the typed name (pair rows)
    failures = IntegerField(default=0)
    first_failure_at = IntegerField()
    last_failure_at = IntegerField(index=True)
    locked_until = IntegerField(null=True)


class ApiToken(BaseModel):
    user = ForeignKeyField(User, backref="tokens", on_delete="CASCADE")
    token_hash = CharField(unique=True, max_length=64)  # SHA-256 of the token
    prefix = CharField(max_length=12)  # shown to tell tokens apart
    created_at = DateTimeField(default=utcnow)
    last_used_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)


class AuditLog(BaseModel):
    at = DateTimeField(default=utcnow, index=True)
    actor = CharField()  # username, or "system" / "cli"
    action = CharField()  # e.g. "catalogue.import", "user.add"
    entity = CharField()  # table or kind of record
    entity_id = CharField(default="")
    detail = TextField(default="")  # JSON


class CatalogueVersion(BaseModel):
    version = CharField(index=True)
    issuer = CharField(default="")
    published_on = DateField(null=True)
    region_code = CharField(default="")
    sha256 = CharField(max_length=64)
    filename = CharField(default="")
    imported_at = DateTimeField(default=utcnow)
    imported_by = CharField(default="")  # username, or "cli" / "seed"

    @classmethod
    def in_force(cls):
        """The version in force (the newest import), or None before any import."""
        return _VERSION_IN_FORCE.first()

    @classmethod
    def by_id(cls, version_id):
        """The version with this id (a case's), or None."""
        return _VERSION_BY_ID.first(version_id)


_VERSION_IN_FORCE = Prepared(lambda: CatalogueVersion.select().order_by(CatalogueVersion.id.desc()).limit(1))
_VERSION_BY_ID = Prepared(lambda version_id: CatalogueVersion.select().where(CatalogueVersion.id == version_id))


class MatterRow(BaseModel):
    catalogue = ForeignKeyField(CatalogueVersion, backref="matters", on_delete="CASCADE")
    code = CharField(max_length=40)
    name = CharField()
    initials = CharField(default="")  # pinyin initials of the name, for search
    kind = CharField()
    department = CharField()
    handling = CharField()
    statutory_days = IntegerField()
    promised_days = IntegerField()
    visits = IntegerField(default=0)
    fee = TextField(default="")
    result_name = CharField(default="")
    conditions = TextField(default="")
    legal_basis = TextField(default="")
    enabled = BooleanField(default=True)
    position = IntegerField(default=0)

    class Meta:
        table_name = "matter"
        indexes = ((("catalogue", "code"), True),)


class MaterialRow(BaseModel):
    catalogue = ForeignKeyField(CatalogueVersion, on_delete="CASCADE")
    matter = ForeignKeyField(MatterRow, backref="materials", on_delete="CASCADE")
    code = CharField()
    name = CharField()
    form = CharField()
    copies = IntegerField()
    medium = CharField()
    source = CharField()
    necessity = CharField()
    waiver = CharField(null=True)
    instructions = TextField(default="")
    position = IntegerField(default=0)
    # 适用条件 (catalogue grammar, "" = always asked); added by migration 0006, hence last and with a SQL default
    condition = TextField(default="", constraints=[SQL("DEFAULT ''")])

    class Meta:
        table_name = "material"
        indexes = ((("catalogue", "code"), False),)


class FieldRow(BaseModel):
    catalogue = ForeignKeyField(CatalogueVersion, on_delete="CASCADE")
    matter = ForeignKeyField(MatterRow, backref="fields", on_delete="CASCADE")
    code = CharField()
    name = CharField()
    type = CharField()
    required = BooleanField()
    options = TextField(default="")  # values joined by "|"
    prefill = CharField(null=True)
    position = IntegerField(default=0)

    class Meta:
        table_name = "form_field"
        indexes = ((("catalogue", "code"), False),)


class BundleRow(BaseModel):
    catalogue = ForeignKeyField(CatalogueVersion, backref="bundles", on_delete="CASCADE")
    code = CharField(max_length=40)
    name = CharField()
    initials = CharField(default="")
    lead_department = CharField()
    audience = CharField()
    description = TextField(default="")
    enabled = BooleanField(default=True)
    position = IntegerField(default=0)

    class Meta:
        table_name = "bundle"
        indexes = ((("catalogue", "code"), True),)


class BundleMemberRow(BaseModel):
    bundle = ForeignKeyField(BundleRow, backref="members", on_delete="CASCADE")
    matter = ForeignKeyField(MatterRow, backref="memberships", on_delete="CASCADE")
    required = BooleanField()
    condition = TextField(default="")
    position = IntegerField(default=0)

    class Meta:
        table_name = "bundle_member"
        indexes = ((("bundle", "matter"), True),)


class QuestionRow(BaseModel):
    bundle = ForeignKeyField(BundleRow, backref="questions", on_delete="CASCADE")
    code = CharField()
    text = TextField()
    options = TextField()  # answers joined by "|"
    condition = TextField(default="")
    position = IntegerField(default=0)

    class Meta:
        table_name = "question"
        indexes = ((("bundle", "code"), True),)


class CalendarDayRow(BaseModel):
    catalogue = ForeignKeyField(CatalogueVersion, on_delete="CASCADE")
    day = DateField()
    kind = CharField()  # "rest" | "work"
    name = CharField(default="")

    class Meta:
        table_name = "calendar_day"
        indexes = ((("catalogue", "day"), True),)


MODELS = [
    SchemaMigration,
    Setting,
    User,
    ApiToken,
    LoginSession,
    LoginThrottle,
    AuditLog,
    CatalogueVersion,
    MatterRow,
    MaterialRow,
    FieldRow,
    BundleRow,
    BundleMemberRow,
    QuestionRow,
    CalendarDayRow,
]
