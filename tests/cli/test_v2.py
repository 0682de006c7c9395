"""The command line with an API v2 profile, in-process against FakeFlattr's v2 over real HTTP."""

from __future__ import annotations

import io
import json
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import flattr
from flattr import v2
from flattr.cli import _login_v2
from flattr.testing import FakeFlattr
from flattr.tokenstore import FileTokenStore, StoredToken

from .kit import Login, Result, follow

Run = Callable[..., Result]


def _v2_login(
    fake: FakeFlattr, config_dir: Path, scopes: tuple[str, ...], profile: str = "default"
) -> Login:
    token = fake.issue_v2_token(scopes=scopes)
    record = StoredToken(
        token=v2.AccessToken(token.token, scopes),
        consumer_key=fake.oauth2_client.client_id,
        base_url=fake.base_url,
        scopes=scopes,
        username="alice",
        api="v2",
    )
    store = FileTokenStore(config_dir / "tokens")
    store.save(profile, record)
    return Login(fake, store, record)


@pytest.fixture
def v2_login(fake: FakeFlattr, config_dir: Path) -> Login:
    """Profile ``default`` holds alice's v2 token with the flattr and thing scopes."""
    return _v2_login(fake, config_dir, ("flattr", "thing"))


@pytest.fixture
def bobs_thing(fake: FakeFlattr) -> int:
    bob = fake.add_user("bob")
    thing = fake.add_thing(
        bob, url="https://bob.example.org/song", title="Bob's song", category="audio"
    )
    return thing.int_id


def test_whoami_names_the_api(run: Run, v2_login: Login) -> None:
    result = run("whoami", "--json")
    assert result.status == 0, result.err
    data = json.loads(result.out)
    assert data["api"] == "v2" and data["user"]["username"] == "alice"
    assert data["scopes"] == ["flattr", "thing"]
    text = run("whoami")
    assert "api:" in text.out and "v2" in text.out


def test_thing_create_show_update_find_list_delete(
    run: Run, v2_login: Login, fake: FakeFlattr
) -> None:
    created = run(
        "thing", "create", "--url", "https://blog.example.org/hello", "--title", "Hello there",
        "--category", "text", "--tag", "birds,spring", "--json",
    )  # fmt: skip
    assert created.status == 0, created.err
    thing = json.loads(created.out)
    thing_id = str(thing["id"])
    assert thing["title"] == "Hello there" and thing["tags"] == ["birds", "spring"]
    assert fake.thing_by_url("https://blog.example.org/hello") is not None

    shown = run("thing", "show", thing_id)
    assert shown.status == 0 and "Hello there" in shown.out and "flattrs:" in shown.out

    updated = run("thing", "update", thing_id, "--title", "Hello again", "--hidden", "--json")
    assert updated.status == 0, updated.err
    assert json.loads(updated.out)["title"] == "Hello again"
    assert json.loads(updated.out)["hidden"] is True

    found = run("thing", "find-url", "https://blog.example.org/hello", "--json")
    assert found.status == 0 and json.loads(found.out)["id"] == int(thing_id)
    assert run("thing", "find-url", "https://blog.example.org/nothing").status == 1

    listed = run("thing", "list")
    assert listed.status == 0 and "FLATTRS" in listed.out and "Hello again" in listed.out

    nothing = run("thing", "update", thing_id)
    assert nothing.status == 2 and "at least one of" in nothing.err

    deleted = run("thing", "delete", thing_id, "--json")
    assert deleted.status == 0 and json.loads(deleted.out) == {"deleted": int(thing_id)}
    assert fake.thing_by_url("https://blog.example.org/hello") is None


def test_search_user_catalogues(run: Run, v2_login: Login, bobs_thing: int) -> None:
    search = run("thing", "search", "song", "--json")
    assert search.status == 0, search.err
    assert [t["id"] for t in json.loads(search.out)] == [bobs_thing]
    user = run("user", "bob", "--json")
    assert user.status == 0 and json.loads(user.out)["username"] == "bob"
    by_id = run("user", "--id", "2")
    assert by_id.status == 2 and "`flattr user NAME`" in by_id.err
    bobs = run("thing", "list", "--user", "bob", "--json")
    assert [t["id"] for t in json.loads(bobs.out)] == [bobs_thing]
    wrong = run("thing", "list", "--user-id", "2")
    assert wrong.status == 2 and "--user NAME" in wrong.err
    categories = run("categories", "--json")
    assert "people" in [c["id"] for c in json.loads(categories.out)]  # a v2-only category
    languages = run("languages")
    assert languages.status == 0 and "en_GB" in languages.out


def test_click_flattrs_and_subscriptions(
    run: Run, v2_login: Login, fake: FakeFlattr, bobs_thing: int
) -> None:
    clicked = run("click", str(bobs_thing), "--json")
    assert clicked.status == 0, clicked.err
    assert fake.requests_to(f"/rest/v2/things/{bobs_thing}/flattr", "POST")
    again = run("click", str(bobs_thing))
    assert again.status == 1 and "once a month" in again.err

    assert run("subscribe", str(bobs_thing)).status == 0
    subs = run("subscriptions", "--json")
    assert [s["thing"]["id"] for s in json.loads(subs.out)] == [bobs_thing]
    table = run("subscriptions")
    assert "Bob's song" in table.out and "active" in table.out
    assert run("unsubscribe", str(bobs_thing)).status == 0
    assert run("subscriptions").out.strip() == "No subscriptions."


def test_flattr_url_with_an_auto_submit_link(run: Run, v2_login: Login, fake: FakeFlattr) -> None:
    bob = fake.add_user("bob")
    link = flattr.auto_submit_url(
        bob.username, "https://bob.example.org/new-post", title="A new post"
    )
    result = run("flattr-url", link, "--json")
    assert result.status == 0, result.err
    made = fake.thing_by_url("https://bob.example.org/new-post")
    assert made is not None and json.loads(result.out)["flattred"] == made.int_id


def test_rate_limit(run: Run, v2_login: Login) -> None:
    result = run("rate-limit", "--json")
    assert result.status == 0, result.err
    data = json.loads(result.out)
    assert data["limit"] == 1000 and 0 <= data["remaining"] <= 1000
    assert "remaining:" in run("rate-limit").out


@pytest.mark.parametrize(
    ("argv", "instead"),
    [
        (("thing", "browse", "--tag", "x"), "`flattr thing search`"),
        (
            ("thing", "register", "--url", "https://e.org/a", "--title", "Hello",
             "--description", "Hello there", "--category", "text", "--language", "en_GB"),
            "`flattr thing create`",
        ),
    ],
)  # fmt: skip
def test_resources_v2_lacks_are_usage_errors(
    run: Run, v2_login: Login, fake: FakeFlattr, argv: tuple[str, ...], instead: str
) -> None:
    fake.clear_requests()
    result = run(*argv)
    assert result.status == 2
    assert "API 0.0.1 command" in result.err and instead in result.err
    assert fake.requests == []


@pytest.mark.parametrize(
    "argv",
    [
        ("thing", "delete", "1"),
        ("subscriptions",),
        ("rate-limit",),
        ("flattr-url", "https://e.org"),
    ],
)
def test_v2_commands_on_a_0_0_1_profile(
    run: Run, logged_in: Login, fake: FakeFlattr, argv: tuple[str, ...]
) -> None:
    fake.clear_requests()
    result = run(*argv)
    assert result.status == 2
    assert "API v2 command" in result.err and "flattr login --api v2" in result.err
    assert fake.requests == []


def test_missing_scope_suggests_a_v2_login(run: Run, fake: FakeFlattr, config_dir: Path) -> None:
    _v2_login(fake, config_dir, ("flattr",), profile="work")
    result = run("thing", "create", "--url", "https://e.org/post", "--profile", "work")
    assert result.status == 1
    assert "flattr login --api v2 --profile work --scope flattr,thing" in result.err
    revoked = _v2_login(fake, config_dir, ("flattr",), profile="old")
    assert isinstance(revoked.record.token, v2.AccessToken)
    fake.revoke_v2_token(revoked.record.token.token)
    gone = run("whoami", "--profile", "old")
    assert gone.status == 1 and "flattr login --api v2 --profile old" in gone.err


def test_feed_publish_with_a_v2_profile(
    run: Run, v2_login: Login, fake: FakeFlattr, tmp_path: Path
) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text(
        '<rss version="2.0"><channel><title>T</title><link>https://pod.example.org/</link>'
        "<language>en</language><item><title>Episode one</title><link>/1</link>"
        "<description>The first one.</description></item></channel></rss>",
        encoding="utf-8",
    )
    first = run("feed", "publish", str(feed), "--json")
    assert first.status == 0, first.err
    assert json.loads(first.out)["registered"][0]["thing"]["flattrs"] == 0
    again = run("feed", "publish", str(feed))
    assert again.status == 0 and "skipped" in again.out
    assert len(fake.requests_to("/rest/v2/things", "POST")) == 1


# -- flattr login --api v2 ---------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def browser_v2(monkeypatch: pytest.MonkeyPatch, fake: FakeFlattr) -> Iterator[list[object]]:
    """``open_browser`` replaced by the fake's consent walk, followed to the loopback callback."""
    seen: list[object] = []
    threads: list[threading.Thread] = []

    def open_browser(url: str) -> bool:
        def walk() -> None:
            try:
                consent = fake.consent_v2(url, allow=True)
                assert consent.redirect_url is not None
                seen.append(follow(consent.redirect_url))
            except BaseException as exc:  # reported by the test
                seen.append(exc)

        thread = threading.Thread(target=walk, daemon=True)
        thread.start()
        threads.append(thread)
        return True

    monkeypatch.setattr(_login_v2, "open_browser", open_browser)
    yield seen
    for thread in threads:
        thread.join(10)


def test_login_v2_loopback(
    run: Run, fake: FakeFlattr, monkeypatch: pytest.MonkeyPatch, browser_v2: list[object]
) -> None:
    port = _free_port()
    app = fake.add_oauth2_client(redirect_uri=f"http://127.0.0.1:{port}/cb", name="CLI")
    monkeypatch.setenv("FLATTR_CLIENT_ID", app.client_id)
    monkeypatch.setenv("FLATTR_CLIENT_SECRET", app.client_secret)
    result = run(
        "login", "--api", "v2", "--scope", "flattr,thing", "--base-url", fake.base_url,
        "--redirect-uri", f"http://127.0.0.1:{port}/cb", "--wait", "20", "--json",
    )  # fmt: skip
    assert result.status == 0, result.err
    assert browser_v2 and browser_v2[0][0] == 200  # type: ignore[index]
    data = json.loads(result.out)
    assert data["api"] == "v2" and data["username"] == "alice"
    assert data["scopes"] == ["flattr", "thing"]
    assert app.client_secret not in result.out + result.err
    who = run("whoami", "--json")
    assert who.status == 0 and json.loads(who.out)["api"] == "v2"


def test_login_v2_oob(run: Run, fake: FakeFlattr, monkeypatch: pytest.MonkeyPatch) -> None:
    app = fake.add_oauth2_client(redirect_uri=None, name="CLI")
    monkeypatch.setenv("FLATTR_CLIENT_ID", app.client_id)
    monkeypatch.setenv("FLATTR_CLIENT_SECRET", app.client_secret)
    # The authorize URL of an application without a redirect URI carries no state,
    # so the "user" can open it before the command asks for the code.
    with v2.FlattrAuth(app.client_id, app.client_secret, None, base_url=fake.base_url) as auth:
        consent = fake.consent_v2(auth.authorize_url(("flattr",)))
    assert consent.redirect_url is None and consent.code
    monkeypatch.setattr(sys, "stdin", io.StringIO(consent.code + "\n"))
    result = run("login", "--api", "v2", "--oob", "--scope", "flattr", "--base-url", fake.base_url)
    assert result.status == 0, result.err
    assert "Logged in to API v2 as alice" in result.out
    assert "/oauth/authorize?" in result.err


def test_login_v2_refusals(run: Run, fake: FakeFlattr, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLATTR_CLIENT_ID", fake.oauth2_client.client_id)
    monkeypatch.setenv("FLATTR_CLIENT_SECRET", fake.oauth2_client.client_secret)
    base = ("login", "--api", "v2", "--base-url", fake.base_url)
    old_scope = run(*base, "--oob", "--scope", "click")
    assert old_scope.status == 2 and "v2 calls it 'flattr'" in old_scope.err
    no_redirect = run(*base)
    assert no_redirect.status == 2 and "--redirect-uri" in no_redirect.err
    elsewhere = run(*base, "--redirect-uri", "https://example.org/cb")
    assert elsewhere.status == 2 and "127.0.0.1:PORT" in elsewhere.err
    v1_redirect = run("login", "--redirect-uri", "http://127.0.0.1:1/cb")
    assert v1_redirect.status == 2 and "--api v2" in v1_redirect.err
    monkeypatch.delenv("FLATTR_CLIENT_ID")
    no_client = run(*base, "--oob")
    assert no_client.status == 2 and "FLATTR_CLIENT_ID" in no_client.err
    assert fake.requests == []


# -- the stored record -----------------------------------------------------------


def test_stored_token_api_field(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path)
    old = StoredToken(
        token=flattr.AccessToken("abcdef123456", "s3cr3t"),
        consumer_key="key",
        base_url="https://api.flattr.com",
    )
    data = old.to_dict()
    assert data["api"] == "0.0.1"
    del data["api"]  # as written before v2
    assert StoredToken.from_dict(data).api == "0.0.1"
    new = StoredToken(
        token=v2.AccessToken("bearer-0123456789", ("flattr",)),
        consumer_key="client-id",
        base_url="https://api.flattr.com",
        scopes=("flattr",),
        api="v2",
    )
    store.save("v2", new)
    loaded = store.load("v2")
    assert loaded is not None and loaded.api == "v2"
    assert loaded.token == new.token and "bearer-0123456789" not in repr(loaded)
    with pytest.raises(flattr.ValidationError) as wrong:
        StoredToken.from_dict({**new.to_dict(), "scopes": ["click"]})
    assert wrong.value.field == "scopes"
    with pytest.raises(flattr.ValidationError):
        StoredToken.from_dict({**new.to_dict(), "api": "v3"})
    with pytest.raises(flattr.ValidationError):
        StoredToken(token=new.token, consumer_key="k", base_url="https://a.example", api="0.0.1")


def test_feed_publish_advice_names_v2_scopes(
    run: Run, fake: FakeFlattr, config_dir: Path, tmp_path: Path
) -> None:
    _v2_login(fake, config_dir, ("flattr",))
    feed = tmp_path / "feed.xml"
    feed.write_text(
        '<rss version="2.0"><channel><title>T</title><link>https://pod.example.org/</link>'
        "<language>en</language><item><title>Episode one</title><link>/1</link>"
        "<description>The first one.</description></item></channel></rss>",
        encoding="utf-8",
    )
    result = run("feed", "publish", str(feed))
    assert result.status == 1
    assert "flattr login --api v2 --scope flattr,thing" in result.out
    assert "read,publish" not in result.out


def test_login_v2_denied(run: Run, fake: FakeFlattr, monkeypatch: pytest.MonkeyPatch) -> None:
    port = _free_port()
    app = fake.add_oauth2_client(redirect_uri=f"http://127.0.0.1:{port}/cb", name="CLI")
    monkeypatch.setenv("FLATTR_CLIENT_ID", app.client_id)
    monkeypatch.setenv("FLATTR_CLIENT_SECRET", app.client_secret)
    pages: list[tuple[int, str]] = []
    threads: list[threading.Thread] = []

    def deny(url: str) -> bool:
        def walk() -> None:
            consent = fake.consent_v2(url, allow=False)
            assert consent.redirect_url is not None and consent.error == "access_denied"
            pages.append(follow(consent.redirect_url))

        thread = threading.Thread(target=walk, daemon=True)
        thread.start()
        threads.append(thread)
        return True

    monkeypatch.setattr(_login_v2, "open_browser", deny)
    try:
        result = run(
            "login", "--api", "v2", "--base-url", fake.base_url,
            "--redirect-uri", f"http://127.0.0.1:{port}/cb", "--wait", "20",
        )  # fmt: skip
    finally:
        for thread in threads:
            thread.join(10)
    assert result.status == 1
    assert "flattr login --api v2` again and choose Allow" in result.err
    assert pages and "Access denied" in pages[0][1]
    assert FileTokenStore(Path(os.environ["FLATTR_CONFIG_DIR"]) / "tokens").load("default") is None
