"""``/api/v1/sync/push``, ``/pull``, ``/scans/<sha256>`` and ``/reconcile`` (``/day``): a township's signed
requests to the hub (sync/hub.py decides).

These routes take no user login: the signature (sync/signing.py) is the
authentication, checked before anything else reads the body. Before that,
a request over plain HTTP from another machine is refused
(``hub.require_https``; ``serve --behind-proxy`` says a proxy terminates TLS).
"""
import logging

from flask import Blueprint, Response, current_app, jsonify, request

from ..sync import hub, status
from ..sync.errors import SyncRefused
from .errors import capped

bp = Blueprint("sync", __name__, url_prefix="/sync")
log = logging.getLogger("county_app.sync")


FORWARDING_HEADERS = ("X-Forwarded-For", "X-Forwarded-Proto", "Forwarded")


@bp.before_request
def _https_only():
    hub.require_https(request.scheme, request.remote_addr,
                      forwarded=any(name in request.headers for name in FORWARDING_HEADERS),
                      behind_proxy=current_app.config.get("BEHIND_PROXY", False))


@bp.post("/push")
def push():
    answer = hub.receive_push(current_app.config["DATA_DIR"], request.headers, request.get_data(cache=False))
    return jsonify(answer)


@bp.post("/pull")
def pull():
    body = hub.answer_pull(current_app.config["DATA_DIR"], request.headers, request.get_data(cache=False))
    return Response(body, content_type="application/json", headers={"Content-Encoding": "gzip"})


@bp.post("/reconcile")
@bp.post("/reconcile/day")
def reconcile():
    answer = hub.receive_reconciliation(current_app.config["DATA_DIR"], request.path, request.headers,
                                        request.get_data(cache=False))
    return jsonify(answer)


@bp.route("/scans/<sha256>", methods=["HEAD"])
def scan_offset(sha256):
    stored, size = hub.scan_offset(current_app.config["DATA_DIR"], request.headers, sha256)
    return "", 200, {"X-Scan-Offset": str(stored), "X-Scan-Size": str(size)}


@bp.put("/scans/<sha256>")
def scan_chunk(sha256):
    stored, size = hub.receive_chunk(current_app.config["DATA_DIR"], request.headers, sha256,
                                     request.query_string.decode("ascii", "replace"), request.get_data(cache=False))
    return jsonify(offset=stored, size=size), 200, {"X-Scan-Offset": str(stored), "X-Scan-Size": str(size)}


@bp.errorhandler(SyncRefused)
def refused(exc):
    """The refusal as JSON, logged at the hub with who sent it and from where, and kept for the sync page."""
    resuming = exc.code == "offset"  # a chunk resent after a lost answer: the protocol's way on, not a trouble
    log.log(logging.INFO if resuming else logging.WARNING, "sync request refused: %s (%s %s, node %r, from %s): %s",
            exc.code, request.method, request.path, request.headers.get("X-Node", "")[:20], request.remote_addr,
            exc.message)
    try:
        if not resuming:
            status.record_refusal(request.headers.get("X-Node", ""), exc.status, exc.code, exc.message)
    except Exception:  # the refusal is answered and logged even when the database cannot take it
        log.exception("could not keep the refusal for the sync page")
    details, _total = capped([])
    extra = {f"X-Scan-{name.title()}": str(value) for name, value in exc.extra.items() if name in ("offset", "size")}
    return jsonify(error={"code": exc.code, "message": exc.message, "details": details}, **exc.extra), exc.status, extra
