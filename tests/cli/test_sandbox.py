"""``flattr sandbox`` in a real subprocess, used from a "second terminal" as the README says."""

from __future__ import annotations

import contextlib
import io
import json
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flattr import v2
from flattr.cli import _login
from flattr.testing._browser import plain_browser, walk_v2

from .kit import (
    FLATTR_AS_IN_A_TERMINAL,
    Result,
    browser_consent,
    follow,
    read_until,
    reap,
    subprocess_env,
)

Run = Callable[..., Result]


Sandbox = tuple[subprocess.Popen[bytes], dict[str, str], list[str]]


@contextlib.contextmanager
def running_sandbox(config_dir: Path, *options: str) -> Iterator[Sandbox]:
    """``python -m flattr sandbox --port 0 OPTIONS``, read up to its "Press Ctrl-C" line.

    Yields the process, its exports and its first lines of output; the
    process is stopped on the way out, however the test ends.
    """
    proc = subprocess.Popen(
        [*FLATTR_AS_IN_A_TERMINAL, "sandbox", "--port", "0", *options],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(config_dir),
    )
    try:
        text = read_until(proc, "Press Ctrl-C")
        exports = dict(re.findall(r"^\s+export (FLATTR_\w+)=(\S+)$", text, re.M))
        yield proc, exports, text.splitlines(keepends=True)
    finally:
        reap(proc)


def stop(proc: subprocess.Popen[bytes]) -> tuple[str, str]:
    """Ctrl-C, as a person would press it; returns the rest of stdout and stderr."""
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    return out.decode(), err.decode()


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    """A running sandbox: the process, its exports and its first lines of output."""
    with running_sandbox(tmp_path / "sandbox-config") as started:
        yield started


def test_readme_flow_from_sandbox_to_a_registered_thing(
    sandbox: Sandbox,
    run: Run,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proc, exports, lines = sandbox
    assert set(exports) == {
        "FLATTR_BASE_URL",
        "FLATTR_CONSUMER_KEY",
        "FLATTR_CONSUMER_SECRET",
        "FLATTR_PROFILE",
        "FLATTR_CLIENT_ID",
        "FLATTR_CLIENT_SECRET",
    }
    assert exports["FLATTR_BASE_URL"].startswith("http://127.0.0.1:")
    text = "".join(lines)
    assert f"consumer key:    {exports['FLATTR_CONSUMER_KEY']}" in text
    assert f"consumer secret: {exports['FLATTR_CONSUMER_SECRET']}" in text
    assert "flattr login --scope read,click,publish" in text

    # The second terminal: paste the exports, log in, register a thing.
    for name, value in exports.items():
        monkeypatch.setenv(name, value)
    threads: list[threading.Thread] = []
    pages: list[tuple[int, str]] = []

    def open_browser(url: str) -> bool:
        thread = threading.Thread(target=lambda: pages.append(follow(browser_consent(url))))
        thread.start()
        threads.append(thread)
        return True

    monkeypatch.setattr(_login, "open_browser", open_browser)
    login = run("login", "--scope", "read,click,publish")
    for thread in threads:
        thread.join(10)
    assert login.status == 0, login.err
    assert "Logged in as alice" in login.out
    assert "Profile 'sandbox'" in login.out
    assert pages and pages[0][0] == 200

    seeded = run("thing", "browse", "--tag", "podcast")
    assert "Podcast episode 1" in seeded.out
    registered = run(
        "thing",
        "register",
        "--url",
        "https://my.blog.example/first-post",
        "--title",
        "My first post",
        "--description",
        "Hello from the sandbox.",
        "--category",
        "text",
        "--language",
        "en_GB",
        "--json",
    )
    assert registered.status == 0, registered.err
    thing_id = json.loads(registered.out)["id"]
    found = run("thing", "find-url", "https://my.blog.example/first-post", "--json")
    assert json.loads(found.out)["id"] == thing_id

    # API v2 on the same sandbox, with the client id and secret it printed
    assert f"client id:     {exports['FLATTR_CLIENT_ID']}" in text
    assert "flattr login --api v2 --oob" in text
    with v2.FlattrAuth(
        exports["FLATTR_CLIENT_ID"], exports["FLATTR_CLIENT_SECRET"], None,
        base_url=exports["FLATTR_BASE_URL"],
    ) as auth:  # fmt: skip
        consent = walk_v2(plain_browser(None), auth.authorize_url(("flattr",)), allow=True)
    assert consent.code
    monkeypatch.setattr(sys, "stdin", io.StringIO(consent.code + "\n"))
    v2_login = run("login", "--api", "v2", "--oob", "--scope", "flattr", "--profile", "v2")
    assert v2_login.status == 0, v2_login.err
    who = run("whoami", "--profile", "v2", "--json")
    assert json.loads(who.out)["api"] == "v2"
    assert found.status == 0  # the 0.0.1 profile still works beside it

    out, err = stop(proc)
    assert proc.returncode == 0, err
    assert "Sandbox stopped." in out
    assert "Traceback" not in err


def test_sandbox_with_a_chosen_consumer_and_no_seed(tmp_path: Path) -> None:
    with running_sandbox(
        tmp_path,
        "--empty",
        "--consumer-key",
        "my-key-0123456789",
        "--consumer-secret",
        "my-secret-0123456789",
    ) as (proc, exports, lines):
        text = "".join(lines)
        assert "Users: alice;" in text
        assert exports["FLATTR_CONSUMER_KEY"] == "my-key-0123456789"
        assert exports["FLATTR_CONSUMER_SECRET"] == "my-secret-0123456789"
        out, _ = stop(proc)
    assert proc.returncode == 0
    assert "Sandbox stopped." in out


def test_busy_port_is_one_line(run: Run) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("sandbox", "--port", str(port))
    assert result.status == 1
    assert result.err.startswith(f"flattr: error: cannot listen on 127.0.0.1:{port}")
    assert "--port 0" in result.err


def test_half_a_consumer_is_a_usage_error(run: Run) -> None:
    result = run("sandbox", "--port", "0", "--consumer-key", "only-the-key")
    assert result.status == 2
    assert "both --consumer-key and --consumer-secret" in result.err
