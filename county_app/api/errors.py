"""API errors: ``{"error": {"code", "message", "details"}}`` with the status of interfaces.md.

Every error answer of the API passes through ``answer``, which bounds it,
whatever the request made the domain report: at most MAX_DETAILS entries in
``details`` (then ``details_total`` says how many there were), each of their
texts at most MAX_TEXT characters, the message at most MAX_MESSAGE, and no
character that cannot be encoded. A
request of a million bad values gets a short answer. The pages that list
errors cap them with the same ``capped``.
"""
from flask import jsonify

from ..text import shown

MAX_DETAILS = 100
MAX_TEXT = 200  # characters of one text of a detail (its field, its message)
MAX_MESSAGE = 500


class ApiError(Exception):
    def __init__(self, status, code, message, details=None, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or []
        self.extra = extra  # further keys of the error object, e.g. the error number of an unexpected error


def capped(details):
    """``(the first MAX_DETAILS of details, each text bounded, how many there were)``."""
    details = details or []
    kept = [_bounded(entry) for entry in details[:MAX_DETAILS]]
    return kept, len(details)


def answer(exc):
    details, total = capped(exc.details)
    error = {"code": exc.code, "message": shown(exc.message, MAX_MESSAGE), "details": details}
    if total > len(details):
        error["details_total"] = total
    error.update(exc.extra)
    return jsonify(error=error), exc.status


def json_error(status, code, message, details=None, **extra):
    return answer(ApiError(status, code, message, details, **extra))


def _bounded(entry):
    if isinstance(entry, dict):
        return {key: shown(value, MAX_TEXT) if isinstance(value, str) else value for key, value in entry.items()}
    return shown(entry, MAX_TEXT) if isinstance(entry, str) else entry
