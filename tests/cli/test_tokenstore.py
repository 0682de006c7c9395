"""flattr.tokenstore: private, atomic token files and the keyring store."""

from __future__ import annotations

import json
import os
import stat
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

import flattr
from flattr.tokenstore import (
    FileTokenStore,
    KeyringTokenStore,
    StoredToken,
    TokenStore,
    TokenStoreError,
    validate_profile,
)

from .kit import MemoryKeyring

SECRET = "t0ken-s3cret-value"
#: One fixed time, so two records built by record() are equal even when the
#: clock ticks over a second between them (the default is "now").
CREATED = datetime(2011, 3, 14, 15, 9, 26, tzinfo=UTC)


def record(key: str = "tokenkey123456", username: str | None = "alice") -> StoredToken:
    return StoredToken(
        token=flattr.AccessToken(key, SECRET),
        consumer_key="consumer-key-1",
        base_url="http://127.0.0.1:8710",
        scopes=("read", "publish"),
        username=username,
        created=CREATED,
    )


@pytest.fixture
def store(tmp_path: Path) -> FileTokenStore:
    return FileTokenStore(tmp_path / "tokens")


def test_round_trip_and_private_modes(store: FileTokenStore) -> None:
    original = record()
    store.save("default", original)
    assert store.load("default") == original
    path = store.path("default")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.directory.stat().st_mode) == 0o700
    data = json.loads(path.read_text())
    assert data["format"] == "flattr-access-token" and data["version"] == 1
    assert data["token"] == {"key": "tokenkey123456", "secret": SECRET}
    assert isinstance(store, TokenStore)


def test_missing_profile_is_none(store: FileTokenStore) -> None:
    assert store.load("nobody") is None
    assert store.delete("nobody") is False
    assert store.profiles() == ()


def test_file_is_private_from_its_first_byte_even_with_umask_0(
    store: FileTokenStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    created: list[int] = []
    real_open = os.open

    def watching_open(path: object, flags: int, mode: int = 0o777, **kw: object) -> int:
        fd = real_open(path, flags, mode, **kw)  # type: ignore[arg-type]
        if flags & os.O_CREAT:
            created.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return fd

    old_umask = os.umask(0)
    try:
        monkeypatch.setattr(os, "open", watching_open)
        store.save("default", record())
    finally:
        os.umask(old_umask)
    assert created == [0o600]
    assert stat.S_IMODE(store.path("default").stat().st_mode) == 0o600


def test_replacing_is_atomic_and_a_failed_write_keeps_the_old_file(
    store: FileTokenStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save("default", record(username="alice"))
    before = store.path("default").read_bytes()

    def disk_full(fd: int, data: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", disk_full)
    with pytest.raises(TokenStoreError, match="No space left on device"):
        store.save("default", record(username="bob"))
    monkeypatch.undo()
    assert store.path("default").read_bytes() == before
    assert sorted(p.name for p in store.directory.iterdir()) == ["default.json"]

    store.save("default", record(username="bob"))
    loaded = store.load("default")
    assert loaded is not None and loaded.username == "bob"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not valid JSON"),
        (b'{"format": "flattr-access-token", "version": 1, "token": {"key": "ab', "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[]", "incomplete or damaged"),
        (b'{"format": "flattr-access-token", "version": 7}', "version"),
        (
            b'{"format": "flattr-access-token", "version": 1, "token": {"key": "k"}}',
            "secret",
        ),
    ],
)
def test_damaged_file_is_a_clear_error_and_never_replaced(
    store: FileTokenStore, content: bytes, message: str
) -> None:
    store.directory.mkdir(mode=0o700, parents=True)
    path = store.path("default")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, content)
    os.close(fd)
    with pytest.raises(TokenStoreError, match=message) as info:
        store.load("default")
    assert str(path) in str(info.value)
    assert info.value.reason == "damaged"
    with pytest.raises(TokenStoreError, match="not replacing") as refused:
        store.save("default", record())
    assert refused.value.reason == "damaged"
    assert path.read_bytes() == content
    assert store.delete("default") is True
    store.save("default", record())
    assert store.load("default") is not None


def test_wider_mode_is_refused(store: FileTokenStore) -> None:
    store.save("default", record())
    store.path("default").chmod(0o640)
    with pytest.raises(TokenStoreError, match="mode 0640") as info:
        store.load("default")
    assert info.value.reason == "insecure"
    assert SECRET not in str(info.value)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="needs root to chown")
def test_file_of_another_user_is_refused(store: FileTokenStore) -> None:
    store.save("default", record())
    os.chown(store.path("default"), 12345, -1)
    with pytest.raises(TokenStoreError, match="belongs to another user"):
        store.load("default")


def test_symlink_is_refused(store: FileTokenStore, tmp_path: Path) -> None:
    elsewhere = FileTokenStore(tmp_path / "elsewhere")
    elsewhere.save("real", record())
    store.directory.mkdir(mode=0o700, parents=True)
    store.path("default").symlink_to(elsewhere.path("real"))
    with pytest.raises(TokenStoreError, match="symlink") as info:
        store.load("default")
    assert info.value.reason == "insecure"


def test_profile_names_cannot_escape_the_directory(store: FileTokenStore) -> None:
    for bad in ("", "../x", "a/b", ".hidden", "-x", "x" * 65, "a b"):
        with pytest.raises(flattr.ValidationError) as info:
            store.path(bad)
        assert info.value.field == "profile"
    assert validate_profile("work-2.eu_1") == "work-2.eu_1"


def test_profiles_lists_stored_ones(store: FileTokenStore) -> None:
    store.save("work", record())
    store.save("default", record())
    assert store.profiles() == ("default", "work")


def test_repr_shows_no_secret() -> None:
    text = repr(record())
    assert SECRET not in text
    assert "tokenkey123456" not in text


def test_keyring_round_trip(memory_keyring: MemoryKeyring) -> None:
    keyring_store = KeyringTokenStore("flattr-test")
    assert keyring_store.load("default") is None
    keyring_store.save("default", record())
    assert keyring_store.load("default") == record()
    assert json.loads(memory_keyring.entries[("flattr-test", "default")])["username"] == "alice"
    assert keyring_store.describe("default") == "keyring entry flattr-test/default"
    assert keyring_store.delete("default") is True
    assert keyring_store.delete("default") is False


def test_keyring_damaged_entry(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.entries[("flattr", "default")] = "{not json"
    keyring_store = KeyringTokenStore()
    with pytest.raises(TokenStoreError, match="keyring entry flattr/default"):
        keyring_store.load("default")
    with pytest.raises(TokenStoreError, match="not replacing"):
        keyring_store.save("default", record())
    assert keyring_store.delete("default") is True


def test_keyring_package_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)  # as if it were not installed
    with pytest.raises(TokenStoreError, match=r"pip install 'flattr\[keyring\]'") as info:
        KeyringTokenStore()
    assert info.value.reason == "unavailable"
