from flask import Blueprint, jsonify

from .. import __version__, settings
from ..models import CatalogueVersion

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    """Liveness and identity of this node; needs no login."""
    current = CatalogueVersion.in_force()
    return jsonify(
        status="ok",
        version=__version__,
        role=settings.get("node.role"),
        catalogue_version=current.version if current else None,
    )
