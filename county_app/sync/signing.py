"""Signed requests (docs/sync.md, Signing): HMAC-SHA256 with the node's secret.

The signature covers ``METHOD \\n PATH \\n TIMESTAMP \\n NONCE \\n hex SHA-256
of the body``, so neither the body nor where it goes can be changed, and the
timestamp and nonce make a captured request useless later. ``verify`` is
the hub's check, made before the body is read any further; each refusal is
a SyncRefused 401 with what to do (api/sync.py logs it).
"""
import hashlib
import hmac
import re
import secrets
import time

from ..db import db
from . import hubkey
from .errors import NodeError, SyncRefused
from .records import SyncNode, SyncNonce

MAX_SKEW = 300  # seconds either side of the hub's clock
NONCE_KEPT = 600  # seconds a nonce is remembered: more than twice MAX_SKEW
HEADERS = ("X-Node", "X-Timestamp", "X-Nonce", "X-Signature")

def signature(secret, method, path, timestamp, nonce, body):
    text = "\n".join((method.upper(), path, str(timestamp), nonce, hashlib.sha256(body).hexdigest()))
    return hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()


def signed_headers(node, secret, method, path, body, now=None):
    """The four headers that sign a request of ``node`` (a township's side)."""
    timestamp, nonce = int(now if now is not None else time.time()), secrets.token_hex(16)
    return {"X-Node": node, "X-Timestamp": str(timestamp), "X-Nonce": nonce,
            "X-Signature": signature(secret, method, path, timestamp, nonce, body)}


def verify(data_dir, method, path, headers, body, *, now=None):
    """The ``SyncNode`` that signed this request, its nonce now used; SyncRefused 401 otherwise."""
    now = int(now if now is not None else time.time())
    node_code, stamp, nonce, given = (str(headers.get(name) or "") for name in HEADERS)
    if not all((node_code, stamp, nonce, given)):
        raise _refused("unsigned", "同步请求缺少签名（X-Node、X-Timestamp、X-Nonce、X-Signature），已拒绝")
    node = SyncNode.get_or_none(SyncNode.code == node_code[:12])
    if node is None or len(node_code) != 12:
        raise _refused("unknown_node", f"节点 {node_code[:20]} 未在县级汇聚中心登记；请县级管理员先执行 node add")
    if node.revoked_at is not None:
        raise _refused("revoked_node", f"节点 {node.code} 已被县级汇聚中心停用；请与县级管理员联系")
    if not re.fullmatch(r"[0-9]{1,12}", stamp) or abs(now - int(stamp)) > MAX_SKEW:
        skew = f"相差 {abs(now - int(stamp))} 秒" if stamp.isdigit() and len(stamp) <= 12 else "无法比较"
        raise _refused("stale", f"请求时间与县级汇聚中心的时钟{skew}（超过 {MAX_SKEW // 60} 分钟）："
                                "请校准本机的日期和时间后重试")
    if not re.fullmatch(r"[0-9a-f]{32}", nonce):
        raise _refused("unsigned", "同步请求的随机数（X-Nonce）应为 32 位十六进制数字，已拒绝")
    try:
        secret = hubkey.unseal(data_dir, node.secret)
    except NodeError as exc:
        raise _refused("bad_key", str(exc)) from None
    expected = signature(secret, method, path, stamp, nonce, body)
    if not re.fullmatch(r"[0-9a-fA-F]{64}", given) or not hmac.compare_digest(expected, given.lower()):
        raise _refused("bad_signature", "签名不正确：本机的同步密钥与县级汇聚中心登记的不一致；"
                                        "请核对密钥，或请县级管理员用 node secret 重新生成")
    _use_nonce(nonce, node.code, now)
    return node


def _use_nonce(nonce, node, now):
    # Committed on its own, before the body is applied: a refused batch still used up its nonce.
    with db.atomic():
        SyncNonce.delete().where(SyncNonce.seen_at < now - NONCE_KEPT).execute()
        if SyncNonce.select().where(SyncNonce.nonce == nonce).exists():
            raise _refused("replayed", "重复的同步请求（这个随机数已经用过），已拒绝；如果不是有人重放请求，请重新同步")
        SyncNonce.create(nonce=nonce, node=node, seen_at=now)


def _refused(code, message):
    return SyncRefused(401, code, message)
