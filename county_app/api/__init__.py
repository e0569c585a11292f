"""The JSON API, ``/api/v1``: a thin adapter over the domain modules.

Each module holds one small blueprint; this one nests them under the prefix.
Domain errors (``intake.errors``) become ``{"error": …}`` answers here, once.
"""
from flask import Blueprint

from ..intake.errors import IntakeError
from . import bundles, cases, guide, health, reports, sync
from .errors import ApiError, answer, json_error

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.register_error_handler(ApiError, answer)
bp.register_error_handler(IntakeError, lambda exc: json_error(exc.status, exc.code, exc.message, exc.details))
for _module in (health, bundles, guide, reports, cases, sync):
    bp.register_blueprint(_module.bp)
