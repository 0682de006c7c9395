"""FakeFlattr(state=FILE): what it keeps across a restart, and the files it refuses to use."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import flattr
from flattr.testing import (
    FakeFlattr,
    StateError,
    StateFileError,
    StateInUseError,
    StateVersionError,
    _state,
)

ALL_SCOPES = ("read", "click", "publish", "extendedread")


def client_for(fake: FakeFlattr, token: flattr.AccessToken | object) -> flattr.FlattrClient:
    return flattr.FlattrClient(
        fake.consumer.key, fake.consumer.secret, token, base_url=fake.base_url, timeout=10
    )


def fingerprint(directory: Path) -> dict[str, str]:
    """Every file in ``directory`` and the SHA-256 of its bytes."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.iterdir())
        if p.is_file()
    }


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    return tmp_path / "sandbox.sqlite"


def test_a_restart_keeps_users_things_clicks_and_tokens(state_file: Path) -> None:
    with FakeFlattr(state=state_file) as first:
        assert first.restored is False
        consumer = first.consumer
        extra = first.add_consumer("extra-key", "extra-secret", name="Another app")
        bob = first.add_user("bob", firstname="Bob", city="Malmö", language="sv_SE")
        carol = first.add_user("carol", active=False)
        first.add_thing(
            bob,
            url="https://bob.example.org/robin",
            title="The robin & the <owl>",
            description="Birds.\nTwo lines.",
            tags=("birds", "with, comma", "ünïcödé"),
            clicks=3,
            created=1_288_000_000,
        )
        first.add_thing(carol, url="https://carol.example.org/draft", title="Draft", hidden=True)
        alice_token = first.issue_access_token(scopes=ALL_SCOPES)
        bob_token = first.issue_access_token(bob, scopes=("read",))
        revoked = first.issue_access_token(scopes=("read",))
        first.revoke(revoked.key)
        with client_for(first, alice_token) as api:
            registered = api.register_thing(
                url="https://alice.example.org/hello",
                title="Hello",
                category="text",
                description="The first post.",
                language="en_GB",
                tags=("hello",),
            )
            robin = api.thing_by_url("https://bob.example.org/robin")
            assert robin is not None
            api.click(robin.id)
        before = {
            t.id: (t.url, t.title, t.tags, t.clicks, t.hidden, t.created) for t in first.things
        }
        users_before = [(u.id, u.username, u.city, u.language, u.active) for u in first.users]

    with FakeFlattr(state=state_file) as second:
        assert second.restored is True
        assert second.consumer == consumer
        assert second.user.username == "alice"
        assert [(c.key, c.secret, c.name) for c in second.consumers][1] == (
            extra.key,
            extra.secret,
            "Another app",
        )
        assert [(u.id, u.username, u.city, u.language, u.active) for u in second.users] == (
            users_before
        )
        after = {
            t.id: (t.url, t.title, t.tags, t.clicks, t.hidden, t.created) for t in second.things
        }
        assert after == before
        restored_robin = second.thing_by_url("https://bob.example.org/robin")
        assert restored_robin is not None and restored_robin.owner.username == "bob"

        # The token issued before the restart still signs, over real HTTP.
        with client_for(second, alice_token) as api:
            assert api.me().username == "alice"
            assert api.thing(registered.id).title == "Hello"
            again = api.thing(robin.id)
            assert (again.clicks, again.status) == (4, flattr.ThingStatus.CLICKED)
            with pytest.raises(flattr.ForbiddenError):
                api.click(robin.id)  # the click was kept: a second one is refused
        with client_for(second, bob_token) as api:
            assert api.me().username == "bob"
            with pytest.raises(flattr.ForbiddenError):
                api.register_thing(
                    url="https://bob.example.org/xylophones",
                    title="Xylophones",
                    category="text",
                    description="Bob's token has no publish scope.",
                    language="en_GB",
                )
        with client_for(second, revoked) as api, pytest.raises(flattr.AuthenticationError):
            api.me()

        # Numbering carries on after the restored records.
        dora = second.add_user("dora")
        assert dora.id == max(u[0] for u in users_before) + 1
        newer = second.add_thing(dora, url="https://dora.example.org/", title="Dora")
        assert newer.int_id == max(t.int_id for t in second.things if t is not newer) + 1
        with pytest.raises(ValueError, match="taken"):
            second.add_user("bob")


def test_the_oauth_flow_carries_on_across_restarts(state_file: Path) -> None:
    with FakeFlattr(state=state_file) as first:
        auth = flattr.FlattrAuth(
            first.consumer.key,
            first.consumer.secret,
            "https://app.example.org/callback",
            base_url=first.base_url,
            timeout=10,
        )
        request_token = auth.fetch_request_token()
        consent = first.consent(auth.authorize_url(request_token, scopes=["read", "click"]))
        verifier = auth.parse_callback(consent.redirect_url or "", request_token)
        pending = auth.fetch_request_token()  # never decided on
        bob = first.add_user("bob")
        tools = first.add_thing(bob, url="https://bob.example.org/tools", title="Tools")

    with FakeFlattr(state=state_file) as second:
        auth = flattr.FlattrAuth(
            second.consumer.key,
            second.consumer.secret,
            "https://app.example.org/callback",
            base_url=second.base_url,
            timeout=10,
        )
        access = auth.fetch_access_token(request_token, verifier)
        with client_for(second, access) as api:
            assert api.me().username == "alice"
            api.click(tools.id)  # the scopes granted before the restart: click, ...
            with pytest.raises(flattr.ForbiddenError):  # ... but not publish
                api.register_thing(
                    url="https://alice.example.org/post",
                    title="A post",
                    category="text",
                    description="Not allowed without publish.",
                    language="en_GB",
                )
        # The request token left pending is still pending: it can be denied now.
        second.deny(pending.key)

    with FakeFlattr(state=state_file) as third:
        auth = flattr.FlattrAuth(
            third.consumer.key,
            third.consumer.secret,
            "https://app.example.org/callback",
            base_url=third.base_url,
            timeout=10,
        )
        with pytest.raises(flattr.OAuthError):
            auth.fetch_access_token(request_token, verifier)  # used before the restart
        with pytest.raises(KeyError):
            third.approve(pending.key)  # denied before the restart


def test_without_state_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with FakeFlattr() as fake:
        fake.add_user("bob")
        assert fake.restored is False
    with FakeFlattr() as fresh:
        assert [u.username for u in fresh.users] == ["alice"]
    assert list(tmp_path.iterdir()) == []


def test_a_new_state_file_is_private_and_an_empty_file_is_a_new_one(tmp_path: Path) -> None:
    created = tmp_path / "new.sqlite"
    with FakeFlattr(state=created):
        pass
    assert stat.S_IMODE(created.stat().st_mode) == 0o600
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    with FakeFlattr(state=empty) as fake:
        assert fake.restored is False
        fake.add_user("bob")
    with FakeFlattr(state=empty) as fake:
        assert fake.restored is True
        assert [u.username for u in fake.users] == ["alice", "bob"]


def test_garbage_is_refused_and_left_untouched(tmp_path: Path) -> None:
    garbage = tmp_path / "state.sqlite"
    garbage.write_bytes(os.urandom(10_000))
    before = fingerprint(tmp_path)
    with pytest.raises(StateFileError) as caught:
        FakeFlattr(state=garbage)
    message = str(caught.value)
    assert str(garbage) in message
    assert "not a FakeFlattr state file" in message
    assert "left as it is" in message
    assert caught.value.path == str(garbage)
    assert fingerprint(tmp_path) == before


def test_another_applications_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    foreign = tmp_path / "notes.db"
    conn = sqlite3.connect(foreign)
    with conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        conn.execute("INSERT INTO notes (text) VALUES ('keep me')")
    conn.close()
    before = fingerprint(tmp_path)
    with pytest.raises(StateFileError, match="another application's SQLite database"):
        FakeFlattr(state=foreign)
    assert fingerprint(tmp_path) == before


def test_a_damaged_state_file_is_refused_and_left_untouched(state_file: Path) -> None:
    with FakeFlattr(state=state_file) as fake:
        for n in range(300):
            fake.add_thing(fake.user, url=f"https://a.example.org/{n}", title=f"Post {n}")
    data = bytearray(state_file.read_bytes())
    page = 4096
    assert len(data) > 6 * page
    data[3 * page : 5 * page] = b"\xa5" * (2 * page)
    state_file.write_bytes(bytes(data))
    before = fingerprint(state_file.parent)
    with pytest.raises(StateFileError, match=r"damaged|not a FakeFlattr"):
        FakeFlattr(state=state_file)
    assert fingerprint(state_file.parent) == before


def test_a_state_file_with_other_columns_is_refused(state_file: Path) -> None:
    with FakeFlattr(state=state_file):
        pass
    conn = sqlite3.connect(state_file)
    conn.execute("ALTER TABLE things RENAME COLUMN title TO headline")
    conn.close()
    before = fingerprint(state_file.parent)
    with pytest.raises(StateFileError, match="table 'things' has columns"):
        FakeFlattr(state=state_file)
    assert fingerprint(state_file.parent) == before


def test_a_file_from_a_newer_version_is_refused_and_left_untouched(state_file: Path) -> None:
    with FakeFlattr(state=state_file) as fake:
        fake.add_user("bob")
    conn = sqlite3.connect(state_file)
    conn.execute(f"PRAGMA user_version = {_state.SCHEMA_VERSION + 1}")
    conn.close()
    before = fingerprint(state_file.parent)
    with pytest.raises(StateVersionError) as caught:
        FakeFlattr(state=state_file)
    assert caught.value.found == _state.SCHEMA_VERSION + 1
    assert "newer flattr" in str(caught.value)
    assert "upgrade flattr to use it" in str(caught.value)
    assert isinstance(caught.value, StateError)
    assert fingerprint(state_file.parent) == before


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StateFileError, match="directory"):
        FakeFlattr(state=tmp_path)


def test_two_fakes_in_one_process_cannot_share_a_file(state_file: Path) -> None:
    with FakeFlattr(state=state_file) as first:
        with pytest.raises(StateInUseError, match="another FakeFlattr") as caught:
            FakeFlattr(state=state_file)
        assert "Stop that one first" in str(caught.value)
        first.add_user("bob")  # the first one is unharmed
    with FakeFlattr(state=state_file) as later:
        assert [u.username for u in later.users] == ["alice", "bob"]


_HOLDER = """
import sys
from flattr.testing import FakeFlattr
fake = FakeFlattr(state=sys.argv[1]).start()
fake.add_user("dora")
token = fake.issue_access_token(scopes=("read",))
print(token.key, token.secret, flush=True)
sys.stdin.read()
"""


@pytest.fixture
def holder(state_file: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process with a FakeFlattr on ``state_file``; its first line is a token."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(state_file)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        proc.communicate(timeout=10)


def test_another_process_cannot_share_a_file_and_kill_9_loses_nothing(
    state_file: Path, holder: subprocess.Popen[str]
) -> None:
    assert holder.stdout is not None
    line = holder.stdout.readline()
    assert line, holder.communicate(timeout=10)[1]
    key, secret = line.split()
    with pytest.raises(StateInUseError):
        FakeFlattr(state=state_file)
    holder.kill()  # SIGKILL: no clean-up, no checkpoint
    holder.wait(10)
    with FakeFlattr(state=state_file) as fake:
        assert [u.username for u in fake.users] == ["alice", "dora"]
        with client_for(fake, (key, secret)) as api:
            assert api.me().username == "alice"


def test_a_stopped_fake_has_let_go_of_its_file(state_file: Path) -> None:
    fake = FakeFlattr(state=state_file).start()
    fake.stop()
    with pytest.raises(StateFileError, match="closed when its FakeFlattr stopped"):
        fake.add_user("bob")
    assert [u.username for u in fake.users] == ["alice"]  # the failed write changed nothing
    with pytest.raises(RuntimeError, match="make a new one"):
        fake.start()
    fake.stop()  # twice is fine
    with FakeFlattr(state=state_file) as again:
        assert [u.username for u in again.users] == ["alice"]


def test_an_older_file_is_brought_up_to_date_not_reset(
    state_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeFlattr(state=state_file) as fake:
        fake.add_user("bob")
    # A later flattr that persists one more kind of record: one migration, one table.
    notes: _state.Table[tuple[str, str]] = _state.Table("notes", ("id", "text"), tuple)
    monkeypatch.setattr(
        _state,
        "MIGRATIONS",
        (*_state.MIGRATIONS, "CREATE TABLE notes (id TEXT PRIMARY KEY, text TEXT NOT NULL)"),
    )
    monkeypatch.setattr(_state, "SCHEMA_VERSION", len(_state.MIGRATIONS))
    monkeypatch.setitem(_state.TABLES, "notes", notes.columns)
    upgraded = _state.StateFile(state_file)
    try:
        assert upgraded.existed
        upgraded.put(notes, ("n1", "hello"))
        upgraded.put(notes, ("n1", "hello again"))  # same key: an update, not a second row
        assert upgraded.rows(notes) == [("n1", "hello again")]
    finally:
        upgraded.close()
    conn = sqlite3.connect(state_file)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == _state.SCHEMA_VERSION
        assert conn.execute("SELECT username FROM users ORDER BY id").fetchall() == [
            ("alice",),
            ("bob",),
        ]
    finally:
        conn.close()


def test_table_names_must_be_plain_identifiers() -> None:
    with pytest.raises(ValueError, match="identifier"):
        _state.Table("things; DROP TABLE users", ("id",), tuple)
    with pytest.raises(ValueError, match="keys"):
        _state.Table("pairs", ("a", "b"), tuple, keys=3)


def test_a_state_file_in_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StateFileError, match="cannot create the state file") as caught:
        FakeFlattr(state=tmp_path / "no" / "such" / "folder" / "state.sqlite")
    assert "folder exists" in str(caught.value)
    assert not (tmp_path / "no").exists()


def test_writes_from_many_threads_all_reach_the_file(state_file: Path) -> None:
    with FakeFlattr(state=state_file) as fake:
        token = fake.issue_access_token(scopes=("read", "publish"))
        with client_for(fake, token) as api, ThreadPoolExecutor(4) as pool:

            def register(n: int) -> str:
                return api.register_thing(
                    url=f"https://alice.example.org/post/{n}",
                    title=f"Post number {n}",
                    category="text",
                    description="Written from one of four threads.",
                    language="en_GB",
                ).id

            ids = set(pool.map(register, range(40), timeout=60))
    with FakeFlattr(state=state_file) as again:
        assert {t.id for t in again.things} == ids
        assert sorted(t.int_id for t in again.things) == list(range(10001, 10041))
