"""``/api/v1/sync/push`` and ``/pull``: a township's signed requests to the hub (sync/hub.py decides).

These routes take no user login: the signature (sync/signing.py) is the
authentication, checked before anything else reads the body.
"""
from flask import Blueprint, Response, current_app, jsonify, request

from ..sync import hub
from ..sync.errors import SyncRefused
from .errors import capped

bp = Blueprint("sync", __name__, url_prefix="/sync")



@bp.post("/push")
def push():
    answer = hub.receive_push(current_app.config["DATA_DIR"], request.headers, request.get_data(cache=False),
                              address=request.remote_addr or "")
    return jsonify(answer)


@bp.post("/pull")
def pull():
    body = hub.answer_pull(current_app.config["DATA_DIR"], request.headers, request.get_data(cache=False),
                           address=request.remote_addr or "")
    return Response(body, content_type="application/json", headers={"Content-Encoding": "gzip"})


@bp.errorhandler(SyncRefused)
def refused(exc):
    details, _total = capped([])
    return jsonify(error={"code": exc.code, "message": exc.message, "details": details}, **exc.extra), exc.status
