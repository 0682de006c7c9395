"""``flattr login`` / ``logout`` in-process: the loopback callback, the PIN flow, the stores.

The browser is the one thing replaced: ``open_browser`` is swapped for a
function that does over real HTTP what a person does in one (open the
consent page, press a button, follow the redirect to the loopback callback).
``test_browser_e2e.py`` does the same with a real Chromium.
"""

from __future__ import annotations

import io
import json
import os
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flattr.cli import _login
from flattr.testing import FakeFlattr
from flattr.tokenstore import FileTokenStore, KeyringTokenStore

from .kit import AUTHORIZE_URL, MemoryKeyring, Result, follow

Run = Callable[..., Result]


class Browser:
    """Stands in for the user's browser; records what it saw."""

    def __init__(self, fake: FakeFlattr) -> None:
        self.fake = fake
        self.threads: list[threading.Thread] = []
        self.pages: list[tuple[int, str]] = []
        self.urls: list[str] = []
        self.failures: list[BaseException] = []

    def act(self, action: Callable[[str], None]) -> Callable[[str], bool]:
        def open_browser(url: str) -> bool:
            self.urls.append(url)

            def target() -> None:
                try:
                    action(url)
                except BaseException as exc:  # reported by the test
                    self.failures.append(exc)

            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self.threads.append(thread)
            return True

        return open_browser

    def allow(self, url: str) -> None:
        consent = self.fake.consent(url, allow=True)
        assert consent.redirect_url is not None
        self.pages.append(follow(consent.redirect_url))

    def deny(self, url: str) -> None:
        consent = self.fake.consent(url, allow=False)
        assert consent.redirect_url is not None
        self.pages.append(follow(consent.redirect_url))

    def join(self) -> None:
        for thread in self.threads:
            thread.join(10)
        if self.failures:
            raise self.failures[0]


@pytest.fixture
def browser(fake: FakeFlattr) -> Iterator[Browser]:
    stand_in = Browser(fake)
    yield stand_in
    stand_in.join()


@pytest.fixture
def consumer_env(fake: FakeFlattr, monkeypatch: pytest.MonkeyPatch) -> FakeFlattr:
    monkeypatch.setenv("FLATTR_CONSUMER_KEY", fake.consumer.key)
    monkeypatch.setenv("FLATTR_CONSUMER_SECRET", fake.consumer.secret)
    monkeypatch.setenv("FLATTR_BASE_URL", fake.base_url)
    return fake


def test_login_catches_the_callback_and_stores_a_private_token(
    consumer_env: FakeFlattr,
    browser: Browser,
    run: Run,
    config_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = consumer_env
    monkeypatch.setattr(_login, "open_browser", browser.act(browser.allow))
    result = run("login", "--scope", "read,publish", "--scope", "click")
    browser.join()
    assert result.status == 0, result.err
    assert f"Logged in as alice on {fake.base_url} with scopes read,publish,click." in result.out
    assert "Your browser shows Flattr's consent page now" in result.err
    (url,) = browser.urls
    assert "access_scope=read,publish,click" in url
    ((status, page),) = browser.pages
    assert status == 200 and "Logged in" in page

    path = config_dir / "tokens" / "default.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    stored = json.loads(path.read_text())
    assert stored["username"] == "alice"
    assert stored["consumer_key"] == fake.consumer.key
    assert fake.consumer.secret not in path.read_text()
    assert stored["scopes"] == ["read", "publish", "click"]

    whoami = run("whoami", "--json")
    assert whoami.status == 0, whoami.err
    assert json.loads(whoami.out)["user"]["username"] == "alice"


def test_the_callback_url_is_loopback_on_a_free_port(
    consumer_env: FakeFlattr, browser: Browser, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_login, "open_browser", browser.act(browser.allow))
    assert run("login").status == 0
    (request,) = consumer_env.requests_to("/oauth/request_token")
    callback = request.oauth_params.get("oauth_callback", "")
    assert callback.startswith("http://127.0.0.1:")
    assert callback.endswith("/callback")
    assert not callback.startswith("http://127.0.0.1:0/")


def test_no_browser_prints_the_address(
    consumer_env: FakeFlattr, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_open(url: str) -> bool:
        raise AssertionError("--no-browser opened a browser")

    monkeypatch.setattr(_login, "open_browser", must_not_open)
    result = run("login", "--no-browser", "--wait", "0.3")
    assert result.status == 1
    assert "Open this page in a browser on this machine" in result.err
    assert AUTHORIZE_URL.search(result.err)


def test_timeout_says_what_to_do_and_stores_nothing(
    consumer_env: FakeFlattr, run: Run, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_login, "open_browser", lambda url: False)
    result = run("login", "--wait", "0.3")
    assert result.status == 1
    last = result.err.strip().splitlines()[-1]
    assert last.startswith("flattr: error: gave up after 0.3 s: the browser never came back")
    assert "--oob" in last
    assert not (config_dir / "tokens" / "default.json").exists()


def test_deny_is_a_clear_error(
    consumer_env: FakeFlattr,
    browser: Browser,
    run: Run,
    config_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_login, "open_browser", browser.act(browser.deny))
    result = run("login")
    browser.join()
    assert result.status == 1
    assert "did not allow access" in result.err
    assert "choose Allow" in result.err
    assert "Access denied" in browser.pages[0][1]
    assert not (config_dir / "tokens").exists()


def test_forged_and_stray_requests_are_ignored(
    consumer_env: FakeFlattr, browser: Browser, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, tuple[int, str]] = {}

    def attacker_then_user(url: str) -> None:
        callback = consumer_env.requests_to("/oauth/request_token")[-1].oauth_params[
            "oauth_callback"
        ]
        seen["forged"] = follow(f"{callback}?oauth_token=forged&oauth_verifier=1234")
        seen["no verifier"] = follow(f"{callback}?oauth_token=x")
        seen["other path"] = follow(callback.replace("/callback", "/favicon.ico"))
        browser.allow(url)

    monkeypatch.setattr(_login, "open_browser", browser.act(attacker_then_user))
    result = run("login")
    browser.join()
    assert result.status == 0, result.err
    assert seen["forged"][0] == 400 and "does not belong" in seen["forged"][1]
    assert seen["no verifier"][0] == 400
    assert seen["other path"][0] == 404


def test_callback_server_answers_only_its_own_host() -> None:
    with _login.CallbackServer() as server:
        status, title, _ = server._handle("evil.example:80", "/callback?oauth_token=x")
        assert (status, title) == (400, "Wrong address")
        status, title, _ = server._handle(f"127.0.0.1:{server.port}", "/callback?oauth_token=x")
        assert (status, title) == (409, "Not ready")


def test_oob_reads_the_pin(
    consumer_env: FakeFlattr,
    run: Run,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class PinTyper(io.StringIO):
        """stdin of a person who reads the address, opens it, allows and types the code."""

        def readline(self, size: int | None = -1) -> str:
            printed = capsys.readouterr().err
            sys.stderr.write(printed)
            match = AUTHORIZE_URL.search(printed)
            assert match, printed
            consent = consumer_env.consent(match.group(1), allow=True)
            assert consent.redirect_url is None and consent.verifier
            return f"  {consent.verifier}\n"

    monkeypatch.setattr(sys, "stdin", PinTyper())
    result = run("login", "--oob", "--json")
    assert result.status == 0, result.err
    assert json.loads(result.out)["username"] == "alice"
    (request,) = consumer_env.requests_to("/oauth/request_token")
    assert request.oauth_params["oauth_callback"] == "oob"


def test_oob_without_a_pin(
    consumer_env: FakeFlattr, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    result = run("login", "--oob")
    assert result.status == 2
    assert "no code was entered" in result.err


def test_bad_scope_is_refused_before_anything_is_sent(consumer_env: FakeFlattr, run: Run) -> None:
    result = run("login", "--scope", "read,everything")
    assert result.status == 2
    assert result.err.startswith("flattr: error: --scope:")
    assert consumer_env.requests == []


def test_damaged_token_file_is_never_overwritten(
    consumer_env: FakeFlattr, run: Run, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = config_dir / "tokens"
    tokens.mkdir(mode=0o700, parents=True)
    damaged = tokens / "default.json"
    fd = os.open(damaged, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b'{"format": "flattr-access-token", "version": 1, "tok')
    os.close(fd)
    monkeypatch.setattr(_login, "open_browser", lambda url: pytest.fail("must stop earlier"))

    result = run("login")
    assert result.status == 1
    assert "not valid JSON" in result.err
    assert "`flattr logout` removes it" in result.err
    assert consumer_env.requests == []
    assert damaged.read_bytes().endswith(b'"tok')

    whoami = run("whoami")
    assert (whoami.status, "not valid JSON" in whoami.err) == (1, True)

    logout = run("logout")
    assert logout.status == 0
    assert "Removed the token of profile 'default'" in logout.out
    assert not damaged.exists()


def test_world_readable_token_is_refused(logged_in: object, run: Run, config_dir: Path) -> None:
    path = config_dir / "tokens" / "default.json"
    path.chmod(0o644)
    result = run("whoami")
    assert result.status == 1
    assert "has mode 0644" in result.err
    assert f"chmod 600 {path}" in result.err


def test_profiles_are_separate_and_logout_removes_one(
    consumer_env: FakeFlattr,
    browser: Browser,
    run: Run,
    config_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_login, "open_browser", browser.act(browser.allow))
    assert run("login", "--profile", "work").status == 0
    assert run("login").status == 0
    store = FileTokenStore(config_dir / "tokens")
    assert store.profiles() == ("default", "work")
    again = run("login")
    assert again.status == 0
    assert "It replaces the profile's earlier token (of alice)." in again.out

    out = run("logout", "--profile", "work")
    assert out.status == 0
    assert "stays valid on the server" in out.out
    assert store.profiles() == ("default",)
    again = run("logout", "--profile", "work", "--json")
    assert json.loads(again.out)["removed"] is False
    assert run("whoami").status == 0
    assert "not logged in" in run("whoami", "--profile", "work").err


def test_keyring_store(
    consumer_env: FakeFlattr,
    browser: Browser,
    run: Run,
    config_dir: Path,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_login, "open_browser", browser.act(browser.allow))
    result = run("login", "--token-store", "keyring")
    assert result.status == 0, result.err
    assert "keyring entry flattr/default" in result.out
    assert not (config_dir / "tokens").exists()
    assert list(memory_keyring.entries) == [("flattr", "default")]
    assert consumer_env.consumer.secret not in memory_keyring.entries[("flattr", "default")]

    monkeypatch.setenv("FLATTR_TOKEN_STORE", "keyring")
    assert run("whoami").status == 0
    assert KeyringTokenStore().load("default") is not None
    assert run("logout").status == 0
    assert memory_keyring.entries == {}


def test_consumer_settings_order_option_env_config(
    logged_in: object, run: Run, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = os.environ["FLATTR_CONSUMER_SECRET"]
    monkeypatch.delenv("FLATTR_CONSUMER_SECRET")
    config = config_dir / "config.toml"
    config.write_text(f'[default]\nconsumer_secret = "{secret}"\n')
    config.chmod(0o600)
    from_config = run("whoami")
    assert from_config.status == 0, from_config.err
    assert from_config.err == ""

    monkeypatch.setenv("FLATTR_CONSUMER_SECRET", "wrong-from-env")
    assert "401" in run("whoami").err  # the environment beats the config file
    assert run("whoami", f"--consumer-secret={secret}").status == 0  # the option beats both

    config.chmod(0o644)
    warned = run("whoami", f"--consumer-secret={secret}")
    assert "warning:" in warned.err and "chmod 600" in warned.err


def test_broken_config_file_is_a_usage_error(run: Run, config_dir: Path) -> None:
    config_dir.mkdir(parents=True)
    (config_dir / "config.toml").write_text("[default]\nconsumer_key = \n")
    result = run("whoami")
    assert result.status == 2
    assert "is not valid TOML" in result.err
    (config_dir / "config.toml").write_text('[default]\nconsumer_kee = "x"\n')
    typo = run("whoami")
    assert typo.status == 2
    assert "unknown setting(s) consumer_kee" in typo.err


def test_login_debug_output_holds_no_secret(
    consumer_env: FakeFlattr,
    browser: Browser,
    run: Run,
    config_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_login, "open_browser", browser.act(browser.allow))
    result = run("login", "--debug")
    assert result.status == 0
    assert "DEBUG flattr" in result.err
    assert "callback server: GET /callback" in result.err
    stored = json.loads((config_dir / "tokens" / "default.json").read_text())
    (approved,) = consumer_env.requests_to("/oauth/access_token")
    verifier = approved.oauth_params["oauth_verifier"]
    for secret in (consumer_env.consumer.secret, stored["token"]["secret"], verifier):
        assert secret not in result.err
        assert secret not in result.out


def test_console_browsers_are_not_started(monkeypatch: pytest.MonkeyPatch) -> None:
    import webbrowser

    monkeypatch.delenv("BROWSER", raising=False)
    monkeypatch.setattr(webbrowser, "get", lambda: webbrowser.GenericBrowser("lynx"))
    assert _login.open_browser("http://127.0.0.1:9/x") is False

    def no_browser() -> webbrowser.BaseBrowser:
        raise webbrowser.Error("could not locate runnable browser")

    monkeypatch.setattr(webbrowser, "get", no_browser)
    assert _login.open_browser("http://127.0.0.1:9/x") is False


def test_locked_keyring_is_one_line_with_a_way_out(
    logged_in: object, run: Run, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyring.errors

    def locked(service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("the collection is locked")

    monkeypatch.setattr(memory_keyring, "get_password", locked)
    result = run("whoami", "--token-store", "keyring")
    assert result.status == 1
    assert result.err.count("\n") == 1
    assert "cannot read the keyring entry flattr/default (KeyringLocked" in result.err
    assert "--token-store file keeps tokens in private files" in result.err
    assert "flattr logout" not in result.err


def test_wrong_consumer_points_at_the_consumer_settings(fake: FakeFlattr, run: Run) -> None:
    unknown = run(
        "login",
        "--base-url",
        fake.base_url,
        "--consumer-key",
        "wrongkey",
        "--consumer-secret",
        "whatever",
    )
    assert unknown.status == 1
    assert "consumer_key_unknown" in unknown.err
    assert "FLATTR_CONSUMER_KEY/FLATTR_CONSUMER_SECRET" in unknown.err
    bad_secret = run(
        "login",
        "--base-url",
        fake.base_url,
        "--consumer-key",
        fake.consumer.key,
        "--consumer-secret",
        "wrong-secret",
    )
    assert bad_secret.status == 1
    assert "signature_invalid" in bad_secret.err
    assert "wrong-secret" not in bad_secret.err
