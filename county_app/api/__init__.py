"""The JSON API, ``/api/v1``: a thin adapter over the domain modules.

Each module holds one small blueprint; this one nests them under the prefix.
"""
from flask import Blueprint

from . import bundles, health
from .errors import ApiError, answer

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.register_error_handler(ApiError, answer)
for _module in (health, bundles):
    bp.register_blueprint(_module.bp)
