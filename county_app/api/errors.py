"""API errors: ``{"error": {"code", "message", "details"}}`` with the status of interfaces.md."""
from flask import jsonify


class ApiError(Exception):
    def __init__(self, status, code, message, details=None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or []


def answer(exc):
    return jsonify(error={"code": exc.code, "message": exc.message, "details": exc.details}), exc.status


def json_error(status, code, message, details=None):
    return answer(ApiError(status, code, message, details))
