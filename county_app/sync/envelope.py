"""The envelope of an offline file (``files``): its signed header, checked before anything else is read.

A file is ``MAGIC``, one line of header JSON (from, to, kind, created, size
and SHA-256 of the payload), one line of HMAC-SHA256 over the magic and the
header with the shared secret, then the payload: a zip whose members are all
stored uncompressed, so no member can inflate. ``opened`` checks the
addressee, the sender and the signature, then the payload's size and
SHA-256 by streaming it; only then is the zip opened, each member read
within its own limit (``member``).
"""
import hashlib
import hmac
import json
import re
import zipfile

from .. import settings
from . import hubkey, nodes
from .errors import NodeError, SyncFailed
from .records import SyncNode

MAGIC = b"COUNTY-APP SYNC FILE 1\n"
MAX_HEADER = 4096
MAX_MEMBERS = 200_000
MAX_MANIFEST = 4 * 1024 * 1024
PIECE = 1024 * 1024


class FileRefused(SyncFailed):
    """A file that is not applied: tampered, for another node, from an unknown or revoked one, malformed."""


def header_line(sender, addressee, kind, created, size, digest):
    """The header line of a file whose payload has ``size`` bytes and SHA-256 ``digest``."""
    return json.dumps({"from": sender, "to": addressee, "kind": kind, "created": created, "size": size,
                       "sha256": digest}, ensure_ascii=False).encode("utf-8") + b"\n"


def opened(data_dir, handle):
    """``(header, archive)`` of a file addressed to this node by a sender it knows, signed and intact."""
    header, start = _verified(data_dir, handle)
    return header, _archive(handle, start)


def _verified(data_dir, handle):
    """The header of a file whose addressee is this node, whose sender it knows, signed and intact."""
    magic = handle.read(len(MAGIC))
    if magic != MAGIC:
        raise FileRefused("这不是同步文件（开头不对）；请选择 sync export 导出的 .sync 文件")
    line, signed = handle.readline(MAX_HEADER), handle.readline(200)
    try:
        header = json.loads(line.decode("utf-8"))
        sender, addressee, kind = str(header["from"]), str(header["to"]), header["kind"]
        size, digest = header["size"], str(header["sha256"])
        if not (isinstance(size, int) and size >= 0 and kind in ("up", "down")):
            raise ValueError
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise FileRefused("同步文件已损坏（文件头不对），未做任何更改") from None
    secret = _sender_secret(data_dir, sender, addressee, kind)
    if not hmac.compare_digest(signature(secret, line), signed.strip().decode("ascii", "replace")):
        raise FileRefused(f"同步文件的签名不对：文件被改动过，或不是用本机与 {sender} 之间的同步密钥导出的"
                          "（密钥可能已重新生成）；未做任何更改，请重新导出")
    start = handle.tell()
    hashed, length = hashlib.sha256(), 0
    for piece in iter(lambda: handle.read(PIECE), b""):
        hashed.update(piece)
        length += len(piece)
    if length != size or not hmac.compare_digest(hashed.hexdigest(), digest):
        raise FileRefused("同步文件内容与签名不符（文件被改动过或没有复制完整），未做任何更改；请重新复制或重新导出")
    return header, start


def _sender_secret(data_dir, sender, addressee, kind):
    if nodes.is_hub():
        county = settings.get("county.code")
        if kind != "up" or addressee != county:
            raise FileRefused(f"这个同步文件是发给 {addressee[:20]} 的，不是发给本县级汇聚中心（{county}）的，未做任何更改")
        try:
            node = known_node(data_dir, sender)
            return hubkey.unseal(data_dir, node.secret)
        except NodeError as exc:
            raise FileRefused(str(exc)) from None
    me, secret = township_identity()
    if kind != "down" or addressee != me:
        raise FileRefused(f"这个同步文件是发给 {addressee[:20]} 的，不是发给本机（{me}）的，未做任何更改")
    if sender != me[:6]:
        raise FileRefused(f"这个同步文件来自 {sender[:20]}，不是本县级汇聚中心（{me[:6]}）导出的，未做任何更改")
    return secret


def _archive(handle, start):
    handle.seek(start)
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileRefused("同步文件的内容不是有效的压缩包，未做任何更改") from None
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise FileRefused(f"同步文件的条目太多（超过 {MAX_MEMBERS} 个），未做任何更改")
    for member in members:
        if member.compress_type != zipfile.ZIP_STORED or member.file_size != member.compress_size:
            raise FileRefused(f"同步文件中的 {member.filename[:60]} 经过压缩；同步文件的条目都应原样存放，未做任何更改")
    return archive


def member(archive, name, limit):
    """The bytes of member ``name``, at most ``limit``; FileRefused if missing or larger."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise FileRefused(f"同步文件缺少 {name[:80]}，未做任何更改") from None
    if info.file_size > limit:
        raise FileRefused(f"同步文件中的 {name[:80]} 太大（超过 {limit // (1024 * 1024)} MB），未做任何更改")
    with archive.open(info) as member:
        return member.read(limit + 1)[:limit]


def manifest(archive):
    try:
        manifest = json.loads(member(archive, "manifest.json", MAX_MANIFEST).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise FileRefused("同步文件的清单（manifest.json）不是有效的 JSON，未做任何更改") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("batches"), list):
        raise FileRefused("同步文件的清单（manifest.json）不对，未做任何更改")
    for name in manifest["batches"]:
        if not isinstance(name, str) or not re.fullmatch(r"batches/[0-9]{6}\.json\.gz", name):
            raise FileRefused(f"同步文件的清单列出了不认识的批次 {str(name)[:60]}，未做任何更改")
    for key in ("scans", "scans_wanted"):
        listed = manifest.get(key, [])
        if not isinstance(listed, list) or not all(isinstance(s, str) and re.fullmatch(r"[0-9a-f]{64}", s)
                                                   for s in listed):
            raise FileRefused(f"同步文件的清单中 {key} 不对，未做任何更改")
    return manifest


def township_identity():
    node, secret = settings.get("sync.node") or settings.get("centre.code"), settings.get("sync.secret")
    if not node or not secret:
        raise FileRefused("尚未设置 centre.code（本中心区划代码）或 sync.secret（同步密钥）：请按 README「连接县级汇聚中心」设置")
    return node, secret


def known_node(data_dir, code):
    node = SyncNode.get_or_none(SyncNode.code == str(code).strip())
    if node is None:
        raise FileRefused(f"节点 {str(code)[:20]} 未在县级汇聚中心登记（node list 可列出已登记的节点），未做任何更改")
    if node.revoked_at is not None:
        raise FileRefused(f"节点 {node.code} 已被县级汇聚中心停用，未做任何更改")
    return node


def signature(secret, header_line):
    return hmac.new(secret.encode("utf-8"), MAGIC + header_line, hashlib.sha256).hexdigest()
