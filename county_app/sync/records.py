"""The tables of the exchange.

At the hub, ``SyncNode`` is one township: its secret (encrypted with the
hub's key, ``hubkey``), ``applied_through`` (the last of its changes the hub
applied) and ``down_written`` (the last downstream change numbered for it).
``SyncOutbox`` holds the changes waiting for the other side: at a township
``node`` is "" (upstream), at the hub the township's code. ``SyncMark`` holds
a township's marks (``up.written``, ``up.acked``, ``down.applied``,
``catalogue.applied``). ``SyncScan`` is a scan file waiting to cross: at a
township one to send (``node`` "", ``seq`` the change that attached it), at
the hub one a township's change named and whose file has not arrived.
``SyncNonce`` remembers the nonces of the last ten minutes, ``SyncRun`` each run of a township, ``SyncConflict`` a
department-owned record changed on both sides, ``SyncRefusal`` (at the hub)
the latest requests refused for each township, ``SyncReconciliation`` (at the hub) each township's figures of
a day beside the hub's (sync/reconcile.py, hub/reconciliation.py).
"""
from peewee import SQL, CharField, DateField, DateTimeField, IntegerField, TextField

from ..models import BaseModel, utcnow


class SyncNode(BaseModel):
    code = CharField(max_length=12, unique=True)
    name = CharField(default="")
    secret = TextField()  # Fernet token of the shared secret (hubkey)
    added_at = DateTimeField(default=utcnow)
    revoked_at = DateTimeField(null=True)
    last_contact_at = DateTimeField(null=True)
    applied_through = IntegerField(default=0)  # upstream: the node's last change applied here
    down_written = IntegerField(default=0)  # downstream: the last seq numbered for the node

    class Meta:
        table_name = "sync_node"


class SyncOutbox(BaseModel):
    node = CharField(max_length=12, default="")  # "" at a township (to the hub); the township's code at the hub
    seq = IntegerField()
    case_no = CharField(max_length=32)
    action = CharField(max_length=32)
    payload = TextField()  # JSON: the event and the case's state after it (snapshot.py)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "sync_outbox"
        indexes = ((("node", "seq"), True),)


class SyncMark(BaseModel):
    name = CharField(max_length=32, unique=True)
    value = IntegerField(default=0)

    class Meta:
        table_name = "sync_mark"


class SyncNonce(BaseModel):
    nonce = CharField(max_length=32, unique=True)
    node = CharField(max_length=12)
    seen_at = IntegerField(index=True)  # Unix seconds

    class Meta:
        table_name = "sync_nonce"


class SyncRun(BaseModel):
    started_at = DateTimeField(default=utcnow)
    ended_at = DateTimeField(null=True)
    actor = CharField(default="")
    pushed = IntegerField(default=0)  # changes the hub acknowledged in this run
    pulled = IntegerField(default=0)  # downstream changes applied here in this run
    catalogue = CharField(default="")  # the catalogue version applied, if any
    conflicts = IntegerField(default=0)
    error = TextField(default="")
    error_kind = CharField(max_length=32, default="", constraints=[SQL("DEFAULT ''")])  # advice.KINDS: what the page advises
    reconcile = TextField(default="", constraints=[SQL("DEFAULT ''")])  # the reconciliation's outcome in words (0015)
    scans = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])  # scan files the hub now holds whole (0016)
    scan_bytes = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])  # of them, sent in this run

    class Meta:
        table_name = "sync_run"


class SyncConflict(BaseModel):
    """One department-owned change that met a different one made on this side (docs/sync.md)."""
    case_no = CharField(max_length=32, index=True)
    matter_code = CharField(max_length=40)
    action = CharField(max_length=32)
    local = TextField()  # JSON: this side's item as it stands (kept)
    incoming = TextField()  # JSON: the other side's change (not applied)
    found_at = DateTimeField(default=utcnow)
    resolved_at = DateTimeField(null=True)
    resolved_by = CharField(default="")
    chosen = CharField(max_length=16, default="", constraints=[SQL("DEFAULT ''")])  # "local" or "incoming": the value that stands (conflicts.py)

    class Meta:
        table_name = "sync_conflict"


class SyncRefusal(BaseModel):
    """A township's request the hub refused (api/sync.py), kept for the hub's sync page; the newest few per node."""
    node = CharField(max_length=12, index=True)
    at = DateTimeField(default=utcnow)
    status = IntegerField()
    code = CharField(max_length=32)
    message = TextField()

    class Meta:
        table_name = "sync_refusal"


class SyncScan(BaseModel):
    node = CharField(max_length=12, default="")  # "" at a township (to send); the sending township's code at the hub
    sha256 = CharField(max_length=64)
    seq = IntegerField(default=0)  # at a township: the outbox seq of the change that attached the scan

    class Meta:
        table_name = "sync_scan"
        indexes = ((("node", "sha256"), True), (("node", "seq"), False))


class SyncReconciliation(BaseModel):
    """One day of one township as the township reported it and as the hub holds it (hub/reconciliation.py)."""
    node = CharField(max_length=12)
    day = DateField()
    reported_at = DateTimeField(default=utcnow)
    township_cases = IntegerField()
    township_events = IntegerField()
    township_digest = CharField(max_length=64)
    hub_cases = IntegerField()
    hub_events = IntegerField()
    hub_digest = CharField(max_length=64)
    listed_at = DateTimeField(null=True)  # when the township's list of the day's cases came (a differing day)
    differences = TextField(default="[]")  # JSON [{"case_no", "township": [r, n] | null, "hub": …, "in_transit"}]
    differences_total = IntegerField(default=0)  # all of them; ``differences`` keeps the first few hundred

    class Meta:
        table_name = "sync_reconciliation"
        indexes = ((("node", "day"), True),)


MODELS = [SyncNode, SyncOutbox, SyncMark, SyncNonce, SyncRun, SyncConflict, SyncRefusal, SyncScan,
          SyncReconciliation]
