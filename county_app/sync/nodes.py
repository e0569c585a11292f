"""The townships a hub knows (``SyncNode``): added, given a new secret, revoked, listed.

Only a hub keeps nodes: every function here refuses at a township. A node's
code is the township's 12-digit centre code, which begins with the county's
6-digit code; its case numbers begin with it, which is how the hub knows
whose cases a batch may touch.
"""
import re

from .. import audit, settings
from ..db import db
from ..models import utcnow
from . import hubkey
from .errors import NodeError
from .records import SyncNode


is_hub = settings.is_hub


def require_hub():
    """NodeError unless this node is a county hub."""
    if not is_hub():
        raise NodeError("本机是乡镇节点（node.role = township）：乡镇节点的登记、停用和密钥只能在县级汇聚中心管理")


def checked_code(code):
    """``code`` as a township's 12-digit centre code within this county; NodeError otherwise."""
    code = str(code or "").strip()
    if not re.fullmatch(r"[0-9]{12}", code):
        raise NodeError(f"乡镇节点编码应为 12 位数字的本中心区划代码，实际为 \"{code}\"")
    county = settings.get("county.code")
    if county and not code.startswith(county):
        raise NodeError(f"乡镇节点编码 {code} 不在本县（区划代码 {county}）之内：应以 {county} 开头")
    return code


def add_node(data_dir, code, name, *, actor):
    """Register a township; returns its secret (shown once, the hub keeps it encrypted)."""
    require_hub()
    code = checked_code(code)
    name = str(name or "").strip()
    if not name or len(name) > 64:
        raise NodeError("请用 --name 写明乡镇名称（1–64 个字）")
    secret = hubkey.new_secret()
    with db.atomic():
        if SyncNode.select().where(SyncNode.code == code).exists():
            raise NodeError(f"乡镇节点 {code} 已登记；如需新密钥请用 node secret {code}")
        SyncNode.create(code=code, name=name, secret=hubkey.seal(data_dir, secret))
        audit.record(actor, "sync.node_add", "sync_node", code, name=name)
    return secret


def replace_secret(data_dir, code, *, actor):
    """A new secret for a node (the old one stops working at once); also lifts a revocation."""
    require_hub()
    secret = hubkey.new_secret()
    with db.atomic():
        updated = (SyncNode.update(secret=hubkey.seal(data_dir, secret), revoked_at=None)
                   .where(SyncNode.code == str(code).strip()).execute())
        if not updated:
            raise _unknown(code)
        audit.record(actor, "sync.node_secret", "sync_node", code)
    return secret


def revoke_node(code, *, actor):
    """Refuse the node's requests from now on; its cases stay at the hub."""
    require_hub()
    with db.atomic():
        node = SyncNode.get_or_none(SyncNode.code == str(code).strip())
        if node is None:
            raise _unknown(code)
        if node.revoked_at is None:
            node.revoked_at = utcnow()
            node.save()
            audit.record(actor, "sync.node_revoke", "sync_node", node.code)
    return node


def list_nodes():
    require_hub()
    return list(SyncNode.select().order_by(SyncNode.code))


def _unknown(code):
    return NodeError(f"没有登记编码为 \"{code}\" 的乡镇节点（node list 可列出已登记的节点）")
