"""A township's signed requests to its hub, and what it does when the link drops mid-request.

``Hub.configured()`` reads ``sync.url``, ``sync.node`` (else ``centre.code``)
and ``sync.secret``. Every request is signed afresh (a new nonce), so a
request resent after a drop is not a replay. A connection cut part-way
through a request or its answer is retried after a short, growing pause
(every request of the exchange is safe to repeat: the hub skips what it
applied, and a chunk at the wrong offset is answered with the right one);
a hub that cannot be reached at all, or that refuses, ends the run at once
with a message saying what to do.
"""
import http.client
import json
import socket
import time
import urllib.error
import urllib.request

from .. import settings
from . import signing
from .advice import refusal_kind
from .errors import SyncFailed

TIMEOUT = 120  # seconds for one request: a batch over a slow link
MAX_ANSWER = 64 * 1024 * 1024
DROP_RETRIES = 6  # consecutive drops of one request before the run gives up
FIRST_PAUSE = 0.2  # seconds before the first retry; doubled for each further one


class LinkDropped(SyncFailed):
    """The connection broke part-way through a request or its answer (the hub may or may not have acted)."""


class Hub:
    """The hub this township sends to."""

    def __init__(self, url, node, secret):
        self.url, self.node, self.secret = url.rstrip("/"), node, secret

    @classmethod
    def configured(cls):
        if settings.get("node.role") == "hub":
            raise SyncFailed("本机是县级汇聚中心：同步由各乡镇发起，汇聚中心不运行 sync run", "is_hub")
        missing = missing_settings()
        if missing:
            raise SyncFailed(f"尚未设置{'、'.join(missing)}：请在系统设置中填写后再同步", "not_configured")
        return cls(settings.get("sync.url"), node_code(), settings.get("sync.secret"))

    def post(self, path, body, *, accept=(200,), raw=False):
        """``(status, answer)``: the JSON answer (or its raw bytes); SyncFailed with the hub's message otherwise."""
        status, _headers, data = self.request("POST", path, body, accept=accept)
        if raw:
            return status, data
        try:
            return status, json.loads(data.decode("utf-8"))
        except ValueError:
            raise SyncFailed(f"县级汇聚中心的应答不是 JSON（{status}），请检查 sync.url 是否指向汇聚中心",
                             "bad_answer") from None

    def request(self, method, path, body=b"", *, accept=(200,), retry=True):
        """``(status, headers, body)`` of a signed request; retried after drops unless ``retry`` is false."""
        for attempt in range(DROP_RETRIES + 1):
            try:
                return self._once(method, path, body, accept)
            except LinkDropped:
                if not retry or attempt == DROP_RETRIES:
                    raise
                time.sleep(FIRST_PAUSE * 2 ** attempt)
        raise AssertionError("unreachable")

    def _once(self, method, path, body, accept):
        headers = {"Content-Type": "application/octet-stream" if method == "PUT" else "application/json",
                   **signing.signed_headers(self.node, self.secret, method, path, body)}
        if method == "POST":
            headers["Content-Encoding"] = "gzip"
        request = urllib.request.Request(self.url + path, data=body if method != "HEAD" else None, headers=headers,
                                         method=method)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
                status, answer_headers, data = answer.status, answer.headers, answer.read(MAX_ANSWER + 1)
        except urllib.error.HTTPError as exc:
            try:
                status, answer_headers, data = exc.code, exc.headers, exc.read(MAX_ANSWER + 1)
            except (OSError, http.client.HTTPException):
                raise self._dropped(exc) from None
            if status not in accept:
                code, message = _refusal(data)
                raise SyncFailed(f"县级汇聚中心拒绝了同步请求（{status}）：{message}", refusal_kind(code)) from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, (ConnectionRefusedError, socket.gaierror)) or isinstance(exc.reason, str):
                raise self._unreachable(exc.reason) from None
            raise self._dropped(exc.reason) from None
        except (OSError, http.client.HTTPException) as exc:
            raise self._dropped(exc) from None
        if len(data) > MAX_ANSWER:
            raise SyncFailed("县级汇聚中心的应答太大，本次未做任何更改", "bad_answer")
        return status, answer_headers, data

    def _unreachable(self, reason):
        return SyncFailed(f"无法连接县级汇聚中心 {self.url}（{reason}）：请检查网络连接和 sync.url 设置，"
                          "稍后再同步；未上传的变更都还在本机，不会丢失", "unreachable")

    def _dropped(self, reason):
        return LinkDropped(f"与县级汇聚中心 {self.url} 的连接多次中断（{reason or type(reason).__name__}）："
                           "请检查网络后再同步；已确认的部分不会重传，未上传的变更都还在本机，不会丢失", "unreachable")


def _refusal(data):
    """The hub's refusal as ``(code, message)``; the code is "" when the answer is not the hub's JSON."""
    try:
        error = json.loads(data.decode("utf-8"))["error"]
        return str(error.get("code", "")), str(error["message"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return "", data[:200].decode("utf-8", "replace") or "（没有说明）"


def node_code():
    """The code this township syncs as: ``sync.node``, else the centre's code."""
    return settings.get("sync.node") or settings.get("centre.code")


def missing_settings():
    """The labels (as the settings page names them) of what a township's sync needs and lacks, in page order."""
    needed = (("sync.url", settings.get("sync.url")), ("sync.secret", settings.get("sync.secret")),
              ("centre.code", node_code()))
    return [settings.spec_for(key).label for key, value in needed if not value]
