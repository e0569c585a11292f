"""``/api/v1/sync/push`` and ``/pull``: a township's signed requests to the hub (sync/hub.py decides).

These routes take no user login: the signature (sync/signing.py) is the
authentication, checked before anything else reads the body.
"""
import logging

from flask import Blueprint, Response, current_app, jsonify, request

from ..sync import hub
from ..sync.errors import SyncRefused
from .errors import capped

bp = Blueprint("sync", __name__, url_prefix="/sync")
log = logging.getLogger("county_app.sync")


@bp.post("/push")
def push():
    answer = hub.receive_push(current_app.config["DATA_DIR"], request.headers, request.get_data(cache=False))
    return jsonify(answer)


@bp.post("/pull")
def pull():
    body = hub.answer_pull(current_app.config["DATA_DIR"], request.headers, request.get_data(cache=False))
    return Response(body, content_type="application/json", headers={"Content-Encoding": "gzip"})


@bp.errorhandler(SyncRefused)
def refused(exc):
    """The refusal as JSON, logged at the hub with who sent it and from where."""
    log.warning("sync request refused: %s (%s %s, node %r, from %s): %s", exc.code, request.method, request.path,
                request.headers.get("X-Node", "")[:20], request.remote_addr, exc.message)
    details, _total = capped([])
    return jsonify(error={"code": exc.code, "message": exc.message, "details": details}, **exc.extra), exc.status
