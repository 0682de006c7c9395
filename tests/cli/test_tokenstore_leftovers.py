"""FileTokenStore: interrupted saves leave no secret behind, and directories stay private."""

from __future__ import annotations

import os
import selectors
import signal
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flattr.tokenstore import FileTokenStore, TokenStoreError, TokenStoreWarning

from .kit import Result
from .test_tokenstore import SECRET, record

TEMP_SUFFIX = ".flattr-tmp"

#: A child that saves a token and stops for good inside the save, after the
#: temporary file is written and before it is moved into place.
_CHILD = textwrap.dedent(
    """
    import os, sys, time
    from datetime import UTC, datetime
    import flattr
    from flattr.tokenstore import FileTokenStore, StoredToken

    def stop_here(fd):
        print("READY", flush=True)
        time.sleep(60)  # killed long before; bounded all the same

    os.fsync = stop_here
    FileTokenStore(sys.argv[1]).save("default", StoredToken(
        token=flattr.AccessToken("tokenkey123456", sys.argv[2]),
        consumer_key="consumer-key-1",
        base_url="http://127.0.0.1:8710",
        created=datetime(2011, 3, 14, tzinfo=UTC),
    ))
    """
)


@pytest.fixture
def store(tmp_path: Path) -> FileTokenStore:
    return FileTokenStore(tmp_path / "tokens")


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def temporaries(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.name.endswith(TEMP_SUFFIX))


def save_and_kill(directory: Path) -> Path:
    """Run a child that is killed with SIGKILL in the middle of a save; return its temp file."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(directory), SECRET],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            deadline = time.monotonic() + 30
            line = b""
            while not line.endswith(b"\n") and time.monotonic() < deadline:
                if selector.select(timeout=max(0.0, deadline - time.monotonic())):
                    chunk = os.read(proc.stdout.fileno(), 64)
                    if not chunk:
                        break
                    line += chunk
        assert line == b"READY\n", proc.stderr.read() if proc.stderr else line
        left = temporaries(directory)
        assert len(left) == 1
        # Private from the first byte: already 0600 while the child is inside the save.
        assert stat.S_IMODE(left[0].stat().st_mode) == 0o600
        assert SECRET.encode() in left[0].read_bytes()
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
        return left[0]
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


def test_kill_9_during_save_then_delete_removes_the_temporary_file(tmp_path: Path) -> None:
    directory = tmp_path / "tokens"
    leftover = save_and_kill(directory)
    store = FileTokenStore(directory)
    assert store.load("default") is None  # the save never finished
    assert store.delete("default") is True  # what `flattr logout` calls
    assert not leftover.exists()
    assert list(directory.iterdir()) == []


def test_kill_9_during_save_then_the_next_save_removes_the_temporary_file(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "tokens"
    leftover = save_and_kill(directory)
    store = FileTokenStore(directory)
    store.save("work", record())
    assert not leftover.exists()
    assert sorted(p.name for p in directory.iterdir()) == ["work.json"]


def test_flattr_logout_removes_what_a_killed_save_left(
    config_dir: Path, run: Callable[..., Result]
) -> None:
    tokens = config_dir / "tokens"  # where the flattr command keeps them
    leftover = save_and_kill(tokens)
    result = run("logout", "--json")
    assert result.status == 0
    assert '"removed": true' in result.out
    assert not leftover.exists()
    assert list(tokens.iterdir()) == []


def test_ctrl_c_during_save_removes_the_temporary_file(
    store: FileTokenStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save("default", record(username="alice"))
    before = store.path("default").read_bytes()

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.save("default", record(username="bob"))
    monkeypatch.undo()
    assert sorted(p.name for p in store.directory.iterdir()) == ["default.json"]
    assert store.path("default").read_bytes() == before


def test_interrupted_replace_removes_the_temporary_file(
    store: FileTokenStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(src: object, dst: object) -> None:
        raise SystemExit(3)

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(SystemExit):
        store.save("default", record())
    monkeypatch.undo()
    assert list(store.directory.iterdir()) == []


def test_only_stale_temporaries_of_our_own_are_cleaned_up(store: FileTokenStore) -> None:
    store.save("default", record())
    directory = store.directory
    alive = os.getppid()  # a process that is certainly running
    in_progress = directory / f".work.json.{alive}.0123456789ab{TEMP_SUFFIX}"
    too_old = directory / f".work.json.{alive}.ba9876543210{TEMP_SUFFIX}"
    not_ours = [directory / ".work.json.0123.tmp", directory / "notes.txt"]
    for path in (in_progress, too_old, *not_ours):
        path.write_bytes(b"x")
    hour_ago = time.time() - 3600
    os.utime(too_old, (hour_ago, hour_ago))

    store.save("default", record())
    assert in_progress.exists() and not too_old.exists()
    assert all(path.exists() for path in not_ours)

    # Deleting a profile forgets its interrupted saves, whoever wrote them.
    assert store.delete("work") is True
    assert not in_progress.exists()
    assert all(path.exists() for path in not_ours)
    assert store.load("default") is not None


def test_directories_save_creates_are_0700(tmp_path: Path, umask_022: None) -> None:
    store = FileTokenStore(tmp_path / "config" / "flattr" / "tokens")
    store.save("default", record())
    for directory in (tmp_path / "config", tmp_path / "config" / "flattr", store.directory):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    assert stat.S_IMODE(tmp_path.stat().st_mode) != 0o777  # existing ones are left alone


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
@pytest.mark.parametrize("mode", [0o777, 0o770, 0o702], ids=oct)
def test_a_directory_others_can_write_to_is_refused(
    store: FileTokenStore, mode: int, umask_022: None
) -> None:
    store.directory.mkdir(mode=0o700)
    store.directory.chmod(mode)
    with pytest.raises(TokenStoreError, match=f"mode {mode:04o}") as info:
        store.save("default", record())
    assert info.value.reason == "insecure"
    assert f"chmod 700 {store.directory}" in str(info.value)
    assert list(store.directory.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_a_directory_others_can_list_is_used_with_a_warning(store: FileTokenStore) -> None:
    store.directory.mkdir(mode=0o700)
    store.directory.chmod(0o755)
    with pytest.warns(TokenStoreWarning, match=f"chmod 700 {store.directory}"):
        store.save("default", record())
    assert store.load("default") == record()


def test_off_posix_only_age_decides_and_no_process_is_signalled(
    store: FileTokenStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.directory.mkdir(mode=0o700)
    young = store.directory / f".work.json.4242.0123456789ab{TEMP_SUFFIX}"
    old = store.directory / f".work.json.4243.0123456789ab{TEMP_SUFFIX}"
    for path in (young, old):
        path.write_bytes(b"x")
    hour_ago = time.time() - 3600
    os.utime(old, (hour_ago, hour_ago))

    def no_kill(pid: int, sig: int) -> None:  # on Windows os.kill(pid, 0) terminates pid
        pytest.fail(f"os.kill({pid}, {sig}) called")

    monkeypatch.setattr("flattr.tokenstore._is_posix", lambda: False)
    monkeypatch.setattr(os, "kill", no_kill)
    store.save("default", record())
    assert young.exists() and not old.exists()
