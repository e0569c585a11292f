"""A batch on the wire: gzip-compressed JSON ``{"node", "first", "last", "changes": [...]}``, read within bounds.

The compressed body is capped by the HTTP layer (``MAX_BODY``); decompression
stops at ``MAX_JSON`` bytes, so a small body that inflates to gigabytes costs
no more memory than that. Anything malformed is a SyncRefused 4xx before
any change is applied.
"""
import gzip
import json
import zlib

from .errors import SyncRefused
from .outbox import MAX_BATCH_CHANGES

MB = 1024 * 1024
MAX_BODY = 8 * MB  # compressed, as sent
MAX_JSON = 32 * MB  # decompressed
GZIP_LEVEL = 6  # 131 bytes a change on the wire (bench/RESULTS.md); compressing costs the township little


def encode(document):
    """``document`` as compressed JSON bytes."""
    return gzip.compress(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
                         compresslevel=GZIP_LEVEL)


def encode_rows(node, rows, **extra):
    """The batch of outbox ``rows`` (and ``extra`` keys) as compressed JSON bytes.

    Each payload is already JSON text: it is spliced in as it is, not parsed
    and written again (the township's CPU for a night's backlog), and
    compressed change by change, so that the batch's whole text is never
    held at once.
    """
    head = json.dumps({"node": node, "first": rows[0].seq if rows else 0, "last": rows[-1].seq if rows else 0,
                       **extra}, ensure_ascii=False, separators=(",", ":"))
    gzipped = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip framing
    out = [gzipped.compress(f'{head[:-1]},"changes":['.encode("utf-8"))]
    for index, row in enumerate(rows):
        out.append(gzipped.compress(('%s{"seq":%d,"case_no":%s,"action":%s,"payload":%s}' % (
            "," if index else "", row.seq, json.dumps(row.case_no), json.dumps(row.action, ensure_ascii=False),
            row.payload)).encode("utf-8")))
    out.append(gzipped.compress(b"]}"))
    out.append(gzipped.flush())
    return b"".join(out)


def decode(body):
    """The JSON document of a compressed body; SyncRefused 413 or 400 when too large or malformed."""
    if len(body) > MAX_BODY:
        raise SyncRefused(413, "too_large", f"同步批次太大：压缩后最多 {MAX_BODY // MB} MB")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip framing
    try:
        text = inflater.decompress(body, MAX_JSON)
        if inflater.unconsumed_tail:
            raise SyncRefused(413, "too_large", f"同步批次解压后超过 {MAX_JSON // MB} MB，已拒绝")
        if not inflater.eof:
            raise SyncRefused(400, "malformed", "同步批次不完整（压缩数据被截断），已拒绝，未做任何更改")
        return json.loads(text.decode("utf-8"))
    except (zlib.error, UnicodeDecodeError, ValueError, RecursionError):
        raise SyncRefused(400, "malformed", "同步批次格式不对（应为 gzip 压缩的 JSON），已拒绝，未做任何更改") from None


def changes_of(document, node_code):
    """``(first, last, changes)`` of a batch addressed from or to ``node_code``; SyncRefused 400 otherwise.

    The changes must be numbered ``first`` … ``last`` without a gap; each is
    ``{"seq", "case_no", "action", "payload"}``.
    """
    if not isinstance(document, dict) or document.get("node") != node_code:
        raise _malformed(f"批次应为 JSON 对象，且 node 为 {node_code}")
    first, last, changes = document.get("first"), document.get("last"), document.get("changes")
    if not isinstance(changes, list) or len(changes) > MAX_BATCH_CHANGES:
        raise _malformed(f"changes 应为至多 {MAX_BATCH_CHANGES} 项的列表")
    if not changes:
        return 0, 0, []
    if not (_count(first) and _count(last)) or last - first + 1 != len(changes):
        raise _malformed("first 和 last 应为正整数，且与 changes 的条数相符")
    for offset, change in enumerate(changes):
        if (not isinstance(change, dict) or change.get("seq") != first + offset
                or not isinstance(change.get("case_no"), str) or not 0 < len(change["case_no"]) <= 32
                or not isinstance(change.get("action"), str) or not isinstance(change.get("payload"), dict)):
            raise _malformed(f"第 {offset + 1} 条变更应为 {{seq, case_no, action, payload}}，seq 依次为 {first + offset}")
    return first, last, changes


def _count(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2 ** 53


def _malformed(message):
    return SyncRefused(400, "malformed", f"同步批次格式不对：{message}；已拒绝，未做任何更改")
