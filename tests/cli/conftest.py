"""Fixtures for the command-line tests: a private config dir, a logged-in profile, a runner."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import keyring
import pytest

import flattr
from flattr.cli import main
from flattr.testing import FakeFlattr
from flattr.tokenstore import FileTokenStore, StoredToken

from .kit import ALL_SCOPES, Login, MemoryKeyring, Result


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every CLI test gets its own config directory and no FLATTR_* settings from outside."""
    for name in list(os.environ):
        if name.startswith("FLATTR_"):
            monkeypatch.delenv(name)
    directory = tmp_path / "config"
    monkeypatch.setenv("FLATTR_CONFIG_DIR", str(directory))
    return directory


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """``run("whoami", "--json")``: call ``flattr.cli.main`` in-process, capturing its output."""

    def runner(*argv: str) -> Result:
        capsys.readouterr()
        status = main(list(argv))
        captured = capsys.readouterr()
        return Result(status, captured.out, captured.err)

    return runner


@pytest.fixture
def logged_in(fake: FakeFlattr, config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Login:
    """Profile ``default`` holds alice's token with every scope; the secret is in the env."""
    token = fake.issue_access_token(scopes=ALL_SCOPES)
    record = StoredToken(
        token=flattr.AccessToken(token.key, token.secret),
        consumer_key=fake.consumer.key,
        base_url=fake.base_url,
        scopes=ALL_SCOPES,
        username="alice",
    )
    store = FileTokenStore(config_dir / "tokens")
    store.save("default", record)
    monkeypatch.setenv("FLATTR_CONSUMER_SECRET", fake.consumer.secret)
    return Login(fake, store, record)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """The keyring package's backend swapped for a :class:`MemoryKeyring` for one test."""
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
