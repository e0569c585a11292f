"""Creating or upgrading a node's data folder: what ``init`` (and ``serve``) do first."""
from dataclasses import dataclass, field

from . import accounts, paths, settings
from .catalogue import store
from .db import bind, database_path, db, is_postgresql
from .migrations import migrate
from .models import CatalogueVersion, Setting, User


@dataclass
class InitReport:
    applied: list = field(default_factory=list)
    backup: object = None
    seed: object = None  # store.ImportOutcome when the seed was loaded
    admin_password: str | None = None


def initialise(data_dir, *, role=None, code=None, name=None, actor="cli", load_seed=True):
    """Migrate the database of ``data_dir`` and make the node usable. Idempotent.

    Sets the node role, centre code (a hub's: the county's code) and name when given; loads the bundled seed
    catalogue when no catalogue is loaded yet; creates the first administrator
    with a random password (returned once) when there is no user at all.
    """
    data_dir = paths.resolve_data_dir(data_dir)
    bind(data_dir)
    require_hub_on_postgresql(role)
    report = InitReport()
    report.applied, report.backup = migrate(None if is_postgresql() else database_path(data_dir))
    with db.connection_context():
        # A hub's code is its county's 6 digits; a township's, its centre's 12.
        code_key = "county.code" if (role or settings.get("node.role")) == "hub" else "centre.code"
        given = {key: value for key, value in (("node.role", role), (code_key, code), ("centre.name", name))
                 if value is not None}
        settings.change(given, actor=actor)
        if not User.select().exists():
            # its own transaction, after hashing the password (add_user)
            password = accounts.random_password()
            try:
                accounts.add_user("admin", "admin", password, actor=actor, display_name="系统管理员",
                                  must_change=True)
            except accounts.AccountError:
                pass  # another init made it meanwhile, and showed its password
            else:
                report.admin_password = password
        if load_seed and CatalogueVersion.in_force() is None:
            report.seed = store.import_workbook(paths.seed_catalogue_path(), actor="seed")
    return report


def require_hub_on_postgresql(role=None):
    """SettingError unless the node on a PostgreSQL database is a hub: ``role`` when given, else the stored
    role (a database without tables yet: a township, the default). A township is always SQLite."""
    if not is_postgresql():
        return
    with db.connection_context():
        stored = settings.get("node.role") if db.table_exists(Setting._meta.table_name) else None
    if (role or stored or "township") != "hub":
        raise settings.SettingError(settings.TOWNSHIP_ON_POSTGRESQL)
