"""Errors of the intake domain. The adapters turn them into HTTP statuses and pages.

Messages are Chinese and say what to do next; ``details`` name the field:
``[{"field": "applicant.id_number", "message": "身份证号码校验位不正确"}]``.
"""


class IntakeError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message, details=None, code=None):
        super().__init__(message)
        self.message = message
        self.details = list(details or [])
        if code:
            self.code = code


class Invalid(IntakeError):
    """Values that break a rule (422)."""
    status, code = 422, "invalid"


class NotFound(IntakeError):
    """An unknown case, bundle, matter or material (404)."""
    status, code = 404, "not_found"


class Forbidden(IntakeError):
    """The user may not act on this (another department's matter) (403)."""
    status, code = 403, "forbidden"


class Conflict(IntakeError):
    """The case is in the wrong state, or changed under us (409)."""
    status, code = 409, "conflict"
