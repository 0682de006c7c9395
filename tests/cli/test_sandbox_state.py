"""``flattr sandbox --state FILE`` in real subprocesses: stopped, started again, nothing lost."""

from __future__ import annotations

import hashlib
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import flattr

from .kit import (
    FLATTR_AS_IN_A_TERMINAL,
    PYTHON,
    browser_consent,
    read_until,
    reap,
    subprocess_env,
)

Sandbox = tuple[subprocess.Popen[str], dict[str, str], str]


@pytest.fixture
def sandboxes(tmp_path: Path) -> Iterator[list[subprocess.Popen[str]]]:
    """Every sandbox process a test starts; each is stopped afterwards, whatever happened."""
    started: list[subprocess.Popen[str]] = []
    try:
        yield started
    finally:
        for proc in started:
            reap(proc)


def start(started: list[subprocess.Popen[str]], config: Path, *options: str) -> Sandbox:
    """``python -m flattr sandbox --port 0 OPTIONS``, read up to its "Press Ctrl-C" line."""
    proc = subprocess.Popen(
        [*FLATTR_AS_IN_A_TERMINAL, "sandbox", "--port", "0", *options],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(config),
    )
    started.append(proc)
    text = read_until(proc, "Press Ctrl-C")
    exports = dict(re.findall(r"^\s+export (FLATTR_\w+)=(\S+)$", text, re.M))
    return proc, exports, text


def ctrl_c(proc: subprocess.Popen[str]) -> tuple[str, str]:
    proc.send_signal(signal.SIGINT)
    return proc.communicate(timeout=10)


def log_in(exports: dict[str, str]) -> flattr.AccessToken:
    """The OAuth flow against a sandbox in another process, with a stand-in browser."""
    auth = flattr.FlattrAuth(
        exports["FLATTR_CONSUMER_KEY"],
        exports["FLATTR_CONSUMER_SECRET"],
        "https://app.example.org/callback",
        base_url=exports["FLATTR_BASE_URL"],
        timeout=10,
    )
    request_token = auth.fetch_request_token()
    location = browser_consent(auth.authorize_url(request_token, scopes=["read", "publish"]))
    return auth.fetch_access_token(request_token, auth.parse_callback(location, request_token))


def client(exports: dict[str, str], token: flattr.AccessToken) -> flattr.FlattrClient:
    return flattr.FlattrClient(
        exports["FLATTR_CONSUMER_KEY"],
        exports["FLATTR_CONSUMER_SECRET"],
        token,
        base_url=exports["FLATTR_BASE_URL"],
        timeout=10,
    )


def test_a_restarted_sandbox_keeps_its_consumer_tokens_and_things(
    tmp_path: Path, sandboxes: list[subprocess.Popen[str]]
) -> None:
    state = tmp_path / "sandbox.sqlite"
    proc, exports, text = start(sandboxes, tmp_path / "config", "--state", str(state))
    assert f"Everything is kept in {state}" in text
    assert "State restored" not in text
    token = log_in(exports)
    with client(exports, token) as api:
        thing = api.register_thing(
            url="https://my.blog.example/first-post",
            title="My first post",
            category="text",
            description="Hello from the sandbox.",
            language="en_GB",
        )
    out, err = ctrl_c(proc)
    assert proc.returncode == 0, err
    assert "Sandbox stopped." in out

    proc, again, text = start(sandboxes, tmp_path / "config", "--state", str(state))
    assert "State restored from" in text
    assert "3 users, 6 things" in text  # the demo seed once, plus the registered thing
    assert again["FLATTR_CONSUMER_KEY"] == exports["FLATTR_CONSUMER_KEY"]
    assert again["FLATTR_CONSUMER_SECRET"] == exports["FLATTR_CONSUMER_SECRET"]
    with client(again, token) as api:  # the token from before the restart
        found = api.thing_by_url("https://my.blog.example/first-post")
        assert found is not None and found.id == thing.id
        assert api.me().username == "alice"
    out, err = ctrl_c(proc)
    assert proc.returncode == 0, err


def test_a_second_sandbox_on_the_same_file_is_refused(
    tmp_path: Path, sandboxes: list[subprocess.Popen[str]]
) -> None:
    state = tmp_path / "sandbox.sqlite"
    proc, _, _ = start(sandboxes, tmp_path / "config", "--state", str(state))
    second = subprocess.run(
        [PYTHON, "-m", "flattr", "sandbox", "--port", "0", "--state", str(state)],
        capture_output=True,
        text=True,
        env=subprocess_env(tmp_path / "config"),
        timeout=30,
    )
    assert second.returncode == 1
    assert "another FakeFlattr" in second.stderr
    assert "Traceback" not in second.stderr
    assert proc.poll() is None  # the first one runs on
    ctrl_c(proc)


def test_a_damaged_state_file_stops_the_sandbox_and_is_kept(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.sqlite"
    state.write_bytes(b"these are not the bytes you are looking for\n" * 200)
    before = hashlib.sha256(state.read_bytes()).hexdigest()
    result = subprocess.run(
        [PYTHON, "-m", "flattr", "sandbox", "--port", "0", "--state", str(state)],
        capture_output=True,
        text=True,
        env=subprocess_env(tmp_path / "config"),
        timeout=30,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("flattr: error: --state: ")
    assert "not a FakeFlattr state file" in result.stderr
    assert "Traceback" not in result.stderr
    assert hashlib.sha256(state.read_bytes()).hexdigest() == before


def test_a_chosen_consumer_must_match_the_state_file(
    tmp_path: Path, sandboxes: list[subprocess.Popen[str]]
) -> None:
    state = tmp_path / "sandbox.sqlite"
    chosen = ("--consumer-key", "my-key-0123456789", "--consumer-secret", "my-secret-0123456789")
    proc, exports, _ = start(sandboxes, tmp_path / "config", "--state", str(state), *chosen)
    ctrl_c(proc)
    proc, again, _ = start(sandboxes, tmp_path / "config", "--state", str(state), *chosen)
    assert again["FLATTR_CONSUMER_KEY"] == exports["FLATTR_CONSUMER_KEY"] == "my-key-0123456789"
    ctrl_c(proc)
    other_secret = (*chosen[:3], "another-secret-0123")
    wrong = subprocess.run(
        [PYTHON, "-m", "flattr", "sandbox", "--port", "0", "--state", str(state), *other_secret],
        capture_output=True,
        text=True,
        env=subprocess_env(tmp_path / "config"),
        timeout=30,
    )
    assert wrong.returncode == 2
    assert "already has this consumer with another secret" in wrong.stderr
