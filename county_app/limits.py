"""What one request may carry: the body size of each route, and integers in URLs.

One table decides how large a request body each endpoint takes. Most take
JSON or a form, for which ``BODY_LIMIT`` is ample (a case with every field
filled is a few KB); the routes that receive a file take that file's limit
plus room for the multipart envelope, and only when the request is
multipart. ``init_app`` sets ``request.max_content_length`` before anything
reads a body (the CSRF check reads the form), so a larger body is refused
with 413 before it is parsed: one request can no longer make the server
read, parse and answer megabytes it has no use for.

Below all of that, the server itself (``server.create``) refuses a body
over ``SERVER_BODY_LIMIT`` before reading it: waitress reads a whole body,
into a temporary file, before the program sees the request, and without a
limit of its own it would take 1 GB from anyone, logged in or not. It is
well above what any route takes, so that an oversized scan still gets the
route's 413 in Chinese; only a broken or hostile client meets waitress's
own answer (in English).

URL integers (``<int:…>``) match ASCII digits within SQLite's 64-bit range
only; a larger number is simply no such record (404) instead of an
``OverflowError`` in the query.
"""
from flask import request
from werkzeug.routing import IntegerConverter, ValidationError

from . import settings
from .integers import SQLITE_MAX
from .intake.scans import MAX_SCAN_BYTES
from .sync.batches import MAX_BODY as MAX_SYNC_BODY
from .sync.scanstore import CHUNK as SCAN_CHUNK

MB = 1024 * 1024
BODY_LIMIT = 1 * MB  # JSON bodies and ordinary forms
MULTIPART_ROOM = 1 * MB  # boundaries, headers and the other fields around an uploaded file
SERVER_BODY_LIMIT = 32 * MB  # no route takes more than 21 MB (a 20 MB scan or workbook and its envelope)


def _catalogue_file_limit():
    return int(settings.get("catalogue.max_upload_mb")) * MB


# endpoint → the largest file its multipart uploads take (a callable: a setting may decide it)
UPLOADS = {
    "api.cases.log_material": lambda: MAX_SCAN_BYTES,
    "case_actions.material": lambda: MAX_SCAN_BYTES,
    "catalogue.upload": _catalogue_file_limit,
    "backups.upload": lambda: SERVER_BODY_LIMIT - MULTIPART_ROOM,  # larger backups are copied into the folder
}


# endpoint → the largest compressed body a signed sync request takes (sync/batches.py)
SYNC_BODIES = {"api.sync.push": MAX_SYNC_BODY, "api.sync.pull": 64 * 1024, "api.sync.scan_chunk": SCAN_CHUNK}


def body_limit(endpoint, mimetype):
    """The largest body, in bytes, that ``endpoint`` takes for a request of ``mimetype``."""
    if endpoint in SYNC_BODIES:
        return SYNC_BODIES[endpoint]
    upload = UPLOADS.get(endpoint)
    if upload is not None and mimetype == "multipart/form-data":
        return upload() + MULTIPART_ROOM
    return BODY_LIMIT


def too_large_message():
    """The 413 message for the current request, naming its limit."""
    upload = UPLOADS.get(request.endpoint)
    if upload is not None and request.mimetype == "multipart/form-data":
        return f"上传的文件太大：此处最多接受 {upload() // MB} MB 的文件，请压缩或分成几个文件后重新上传。"
    limit = SYNC_BODIES.get(request.endpoint, BODY_LIMIT)
    return f"提交的内容太大：此处最多接受 {limit / MB:g} MB，请删减后重试。"


class BoundedInt(IntegerConverter):
    """``<int:…>`` of ASCII digits up to SQLite's largest integer (werkzeug's ``\\d`` takes any script's digits)."""
    regex = r"[0-9]+"

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", SQLITE_MAX)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value):
        if len(value) > len(str(SQLITE_MAX)):  # int() of thousands of digits is slow, then refused
            raise ValidationError()
        return super().to_python(value)


def install_converters(app):
    """Make ``<int:…>`` bounded; call before any blueprint adds its routes."""
    app.url_map.converters["int"] = BoundedInt


def init_app(app):
    """Apply the body limit of each request before anything reads its body (register before other hooks)."""
    app.before_request(_apply)


def _apply():
    limit = body_limit(request.endpoint, request.mimetype)
    request.max_content_length = limit
    # A single form field may then be as large as the body, and no larger.
    request.max_form_memory_size = min(limit, BODY_LIMIT)
