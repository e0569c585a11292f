"""A small browser for the real server: cookies, the CSRF token of forms, and a chosen client address.

The server sees the client's address as ``request.remote_addr``. On Linux the
whole of 127.0.0.0/8 is loopback, so a client bound to 127.0.0.2 reaches a
server on 127.0.0.1 as another PC would; ``other_address_or_skip`` skips a
test where that does not work. Nothing here trusts or sends
``X-Forwarded-For``.
"""
import http.client
import re
import socket
import time
from urllib.parse import urlencode, urlsplit

import pytest

from conftest import PASSWORD

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def other_address_or_skip(address="127.0.0.2"):
    """``address`` if a socket can be bound to it (another loopback address), else skip the test."""
    with socket.socket() as sock:
        try:
            sock.bind((address, 0))
        except OSError:
            pytest.skip(f"cannot bind {address} on this machine")
    return address


class WebClient:
    """One browser: its own cookies, connecting from ``address``."""

    def __init__(self, base, address="127.0.0.1"):
        parts = urlsplit(base)
        self.host, self.port, self.address = parts.hostname, parts.port, address
        self.cookies = {}
        self.last_ms = None

    def request(self, method, path, form=None, headers=None):
        """(status, headers, text) of one request, without following redirects."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30, source_address=(self.address, 0))
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            conn.close()
        self.last_ms = (time.perf_counter() - started) * 1000
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                cookie_value = rest.split(";", 1)[0]
                if "expires=thu, 01 jan 1970" in value.lower() or not cookie_value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = cookie_value
        return response.status, dict(response.getheaders()), text

    def get(self, path):
        return self.request("GET", path)

    def csrf(self, path="/login"):
        status, _headers, page = self.get(path)
        return _CSRF.search(page).group(1)

    def post(self, path, form, *, token_from=None):
        """POST ``form`` with the CSRF token of the page ``token_from`` (default: ``path``)."""
        return self.request("POST", path, {**form, "csrf_token": self.csrf(token_from or path)})

    def login(self, username, password=PASSWORD):
        """(status, location or page text) of a login through the form."""
        token = self.csrf("/login")
        status, headers, text = self.request("POST", "/login",
                                             {"username": username, "password": password, "csrf_token": token})
        return status, headers.get("Location", text)

    def logged_in(self):
        """Whether the home page answers (200) rather than sending to the login form."""
        return self.get("/")[0] == 200
