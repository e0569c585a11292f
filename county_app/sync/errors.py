"""The errors of an exchange, each with a message in Chinese."""


class SyncRefused(Exception):
    """The hub refuses a request (``status`` 4xx, ``code``); nothing was applied."""

    def __init__(self, status, code, message, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


class SyncFailed(Exception):
    """A township's run could not complete (the hub unreachable or refusing); what was acknowledged stays.

    ``kind`` says which trouble it is (``advice.KINDS``): the sync page tells
    the administrator what to do from it, the scheduler retries on it.
    """

    def __init__(self, message, kind="other"):
        super().__init__(message)
        self.kind = kind


class SyncBusy(SyncFailed):
    """Another run holds the data folder's sync lock."""


class NodeError(ValueError):
    """A node command that cannot be done (unknown code, not a hub …)."""
