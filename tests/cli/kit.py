"""Helpers for the command-line tests: a browser stand-in, subprocess settings and cleanup."""

from __future__ import annotations

import http.client
import os
import re
import selectors
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import keyring.errors
from keyring.backend import KeyringBackend

from flattr.testing import FakeFlattr
from flattr.tokenstore import FileTokenStore, StoredToken

PYTHON = sys.executable
#: ``python -m flattr`` with Ctrl-C restored. A child inherits an ignored
#: SIGINT (as in a shell's background job, ``pytest &``), and Python then
#: leaves it ignored; this starts the command as a terminal would.
FLATTR_AS_IN_A_TERMINAL = (
    PYTHON,
    "-c",
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('flattr', run_name='__main__', alter_sys=True)",
)
ALL_SCOPES = ("read", "click", "publish", "extendedread")
AUTHORIZE_URL = re.compile(r"(https?://\S+/oauth/authenticate\?\S+)")
_FIELD = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


@dataclass
class Result:
    """What one in-process run of ``flattr`` did."""

    status: int
    out: str
    err: str


@dataclass
class Login:
    """A profile logged in to a FakeFlattr (the token written straight into the store)."""

    fake: FakeFlattr
    store: FileTokenStore
    record: StoredToken


class MemoryKeyring(KeyringBackend):
    """A keyring backend that keeps passwords in a dict (the system one is not for tests)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.entries:
            raise keyring.errors.PasswordDeleteError("no such entry")
        del self.entries[(service, username)]


def _request(method: str, url: str, body: str | None = None) -> tuple[int, str | None, str]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
    target = f"{parts.path}?{parts.query}" if parts.query else parts.path
    try:
        conn.request(method, target, body=body, headers=headers)
        answer = conn.getresponse()
        return answer.status, answer.getheader("Location"), answer.read().decode()
    finally:
        conn.close()


def browser_consent(authorize_url: str, *, allow: bool = True) -> str:
    """Do what a person does in a browser: open the consent page and press a button.

    Plain HTTP, for a server in another process (a FakeFlattr object offers
    ``consent()`` for the same).

    :returns: the ``Location`` the decision redirects to.
    """
    status, _, page = _request("GET", authorize_url)
    assert status == 200, page
    fields = dict(_FIELD.findall(page))
    fields["decision"] = "allow" if allow else "deny"
    status, location, _ = _request("POST", authorize_url.split("?")[0], urlencode(fields))
    assert status == 302 and location, status
    return location


def follow(url: str) -> tuple[int, str]:
    """GET ``url`` as a browser follows a redirect; returns the status and the page."""
    status, _, page = _request("GET", url)
    return status, page


def subprocess_env(config_dir: Path, **extra: str) -> dict[str, str]:
    """An environment for ``python -m flattr``: private config dir, no FLATTR_* from outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLATTR_")}
    env["FLATTR_CONFIG_DIR"] = str(config_dir)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def reap(proc: subprocess.Popen[Any], grace: float = 5.0) -> None:
    """Stop ``proc`` whatever it is doing, and close its pipes: for a ``finally``.

    Terminate, then kill if it is still there after ``grace`` seconds; a
    SIGINT alone is not enough, since the process may ignore it.
    """
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(grace)
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


def read_until(proc: subprocess.Popen[Any], marker: str, timeout: float = 30.0) -> str:
    """Read ``proc``'s stdout until a line contains ``marker``, for at most ``timeout`` s.

    Reads the pipe's file descriptor directly, so that a silent or stuck
    process fails the test instead of hanging it (call it before anything
    else reads that pipe: what the file object had buffered would be missed).

    :raises AssertionError: the process ended, or the time ran out, first.
    """
    assert proc.stdout is not None
    descriptor = proc.stdout.fileno()
    deadline = time.monotonic() + timeout
    data = b""
    with selectors.DefaultSelector() as selector:
        selector.register(descriptor, selectors.EVENT_READ)
        while marker.encode() not in data:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {marker!r} in {timeout} s; output: {data!r}")
            if not selector.select(left):
                continue
            chunk = os.read(descriptor, 65536)
            if not chunk:
                raise AssertionError(f"the process ended before {marker!r}; output: {data!r}")
            data += chunk
    return data.decode()
