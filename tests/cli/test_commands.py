"""Every API command of ``flattr`` run in-process against FakeFlattr, tables and JSON."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from flattr.cli import build_parser

from .kit import Login, Result

Run = Callable[..., Result]


@pytest.fixture
def seeded(logged_in: Login) -> Login:
    logged_in.fake.seed_demo()
    return logged_in


def test_whoami_table_and_json(logged_in: Login, run: Run) -> None:
    table = run("whoami")
    assert table.status == 0, table.err
    assert "username: alice" in table.out
    assert "name:     Alice Example" in table.out
    assert f"server:   {logged_in.fake.base_url}" in table.out
    assert "scopes:   read,click,publish,extendedread" in table.out
    assert table.err == ""

    data = json.loads(run("whoami", "--json").out)
    assert data["user"]["username"] == "alice"
    assert data["user"]["email"] == "alice@example.org"  # the token has extendedread
    assert data["profile"] == "default"
    assert data["base_url"] == logged_in.fake.base_url


def test_common_options_work_before_and_after_the_command(logged_in: Login, run: Run) -> None:
    before = run("--json", "whoami")
    after = run("whoami", "--json")
    assert before.status == after.status == 0
    assert json.loads(before.out) == json.loads(after.out)


def test_user_by_name_and_by_id(seeded: Login, run: Run) -> None:
    bob = next(u for u in seeded.fake.users if u.username == "bob")
    by_name = run("user", "bob")
    assert by_name.status == 0
    assert "username: bob" in by_name.out
    assert "place:    Malmö, Sweden" in by_name.out
    by_id = json.loads(run("user", "--id", str(bob.id), "--json").out)
    assert by_id["username"] == "bob"
    assert by_id["email"] is None  # only the token's own user shows an e-mail address

    neither = run("user")
    assert neither.status == 2
    assert "give a user name or --id" in neither.err


def test_unknown_user_is_one_line_and_status_1(logged_in: Login, run: Run) -> None:
    result = run("user", "nobody")
    assert result.status == 1
    assert result.out == ""
    assert result.err.count("\n") == 1
    assert result.err.startswith("flattr: error: GET /rest/0.0.1/user/get/name/nobody: 404")
    assert "check the id or name" in result.err


def test_thing_register_show_list_and_find_url(logged_in: Login, run: Run) -> None:
    registered = run(
        "thing",
        "register",
        "--url",
        "https://blog.example.org/2010/hello",
        "--title",
        "Hello, Flattr",
        "--description",
        "The first post of the blog.",
        "--category",
        "text",
        "--language",
        "en_GB",
        "--tag",
        "hello,first",
        "--tag",
        "blog",
        "--json",
    )
    assert registered.status == 0, registered.err
    thing = json.loads(registered.out)
    stored = logged_in.fake.thing_by_url("https://blog.example.org/2010/hello")
    assert stored is not None and stored.id == thing["id"]
    assert stored.tags == ("hello", "first", "blog")
    assert thing["owner"]["username"] == "alice"

    shown = run("thing", "show", thing["id"])
    assert shown.status == 0
    assert "title:       Hello, Flattr" in shown.out
    assert "tags:        hello, first, blog" in shown.out
    assert "owner:       alice" in shown.out

    listed = run("thing", "list")
    assert listed.status == 0
    header, *rows = listed.out.splitlines()
    assert header.split() == ["ID", "TITLE", "OWNER", "CATEGORY", "LANGUAGE", "CLICKS", "URL"]
    assert len(rows) == 1 and thing["id"] in rows[0]

    found = run("thing", "find-url", "https://blog.example.org/2010/hello", "--json")
    assert found.status == 0
    assert json.loads(found.out)["id"] == thing["id"]

    missing = run("thing", "find-url", "https://blog.example.org/never")
    assert missing.status == 1
    assert missing.out.strip() == "Not registered."
    missing_json = run("thing", "find-url", "https://blog.example.org/never", "--json")
    assert (missing_json.status, json.loads(missing_json.out)) == (1, None)


def test_registering_a_taken_url_says_how_to_find_it(seeded: Login, run: Run) -> None:
    result = run(
        "thing",
        "register",
        "--url",
        "https://bob.example.org/tools",
        "--title",
        "Tools I love",
        "--description",
        "Taken already.",
        "--category",
        "text",
        "--language",
        "en_GB",
    )
    assert result.status == 1
    assert "the server refused to register the thing" in result.err
    assert "flattr thing find-url URL" in result.err
    assert result.err.count("\n") == 1


def test_bad_field_is_a_usage_error_before_anything_is_sent(logged_in: Login, run: Run) -> None:
    logged_in.fake.clear_requests()
    result = run(
        "thing",
        "register",
        "--url",
        "https://blog.example.org/x",
        "--title",
        "Hi",
        "--description",
        "Long enough.",
        "--category",
        "text",
        "--language",
        "en_GB",
    )
    assert result.status == 2
    assert result.err.startswith("flattr: error: title:")
    assert logged_in.fake.requests_to("/rest/0.0.1/thing/register") == []


def test_missing_required_option_is_argparse_usage(logged_in: Login, run: Run) -> None:
    result = run("thing", "register", "--url", "https://blog.example.org/x")
    assert result.status == 2
    assert "the following arguments are required" in result.err


def test_list_another_users_things(seeded: Login, run: Run) -> None:
    carol = next(u for u in seeded.fake.users if u.username == "carol")
    data = json.loads(run("thing", "list", "--user-id", str(carol.id), "--json").out)
    assert sorted(t["title"] for t in data) == ["Podcast episode 1", "Tiny note app"]


def test_search_and_browse(seeded: Login, run: Run) -> None:
    search = run("thing", "search", "robin")
    assert search.status == 0
    assert "The robin in spring" in search.out

    browse = json.loads(run("thing", "browse", "--category", "audio", "--json").out)
    assert [t["title"] for t in browse] == ["Podcast episode 1"]
    by_user = json.loads(run("thing", "browse", "--user", "carol", "--tag", "app", "--json").out)
    assert [t["title"] for t in by_user] == ["Tiny note app"]

    nothing = run("thing", "search", "zebra crossing")
    assert (nothing.status, nothing.out.strip()) == (0, "No things.")

    no_criteria = run("thing", "browse")
    assert no_criteria.status == 2
    assert "--query, --tag, --category, --language, --user" in no_criteria.err


def test_click_then_click_again(seeded: Login, run: Run) -> None:
    tools = seeded.fake.thing_by_url("https://bob.example.org/tools")
    assert tools is not None
    before = tools.clicks
    result = run("click", tools.id)
    assert result.status == 0, result.err
    assert tools.clicks == before + 1
    again = run("click", tools.id)
    assert again.status == 1
    assert again.err.startswith("flattr: error: GET /rest/0.0.1/thing/click/id/")
    assert "403" in again.err
    # A repeat click is not a scope problem: no login is suggested (issue 15).
    assert "A thing can be flattred once" in again.err
    assert "flattr login" not in again.err and "scope" not in again.err
    assert tools.clicks == before + 1


def test_categories_and_languages(logged_in: Login, run: Run) -> None:
    categories = run("categories")
    assert categories.status == 0
    assert categories.out.splitlines()[0].split() == ["ID", "NAME"]
    assert "software  Software" in categories.out
    languages = json.loads(run("languages", "--json").out)
    assert len(languages) == 45
    assert {"id": "en_GB", "name": "English"} in languages


def test_server_text_cannot_drive_the_terminal(logged_in: Login, run: Run) -> None:
    # XML cannot carry ESC, but it can carry the 8-bit CSI (U+009B) and bidi overrides.
    logged_in.fake.add_thing(
        logged_in.fake.user,
        url="https://evil.example.org/x",
        title="Nice\u009b2J title",
        description="Reads \u202ebackwards",
    )
    table = run("thing", "list")
    assert table.status == 0
    assert "\u009b" not in table.out
    assert "Nice?2J title" in table.out
    (thing_id,) = [t.id for t in logged_in.fake.things]
    shown = run("thing", "show", thing_id)
    assert "\u202e" not in shown.out
    assert "Reads ?backwards" in shown.out
    raw = json.loads(run("thing", "list", "--json").out)
    assert raw[0]["title"] == "Nice\u009b2J title"  # JSON keeps the data, escaped


def test_no_token_says_to_log_in(fake: object, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run("whoami", "--profile", "work")
    assert result.status == 1
    assert "not logged in" in result.err
    assert "flattr login --profile work" in result.err


def test_missing_consumer_secret_is_a_usage_error(
    logged_in: Login, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FLATTR_CONSUMER_SECRET")
    result = run("whoami")
    assert result.status == 2
    assert "no consumer secret for profile 'default'" in result.err
    assert "--consumer-secret" in result.err and "FLATTR_CONSUMER_SECRET" in result.err


def test_wrong_secret_gets_the_server_message_and_what_to_do(logged_in: Login, run: Run) -> None:
    result = run("whoami", "--consumer-secret", "not-the-secret")
    assert result.status == 1
    assert "401" in result.err
    assert "check the consumer secret, or run `flattr login` again" in result.err
    assert "not-the-secret" not in result.err


def test_revoked_token(logged_in: Login, run: Run) -> None:
    logged_in.fake.revoke(logged_in.record.token.key)
    result = run("whoami")
    assert result.status == 1
    assert "run `flattr login` again" in result.err


def test_token_is_only_sent_to_the_server_that_issued_it(logged_in: Login, run: Run) -> None:
    result = run("whoami", "--base-url", "http://127.0.0.1:9")
    assert result.status == 1
    assert f"was issued by {logged_in.fake.base_url}" in result.err
    assert "flattr login --base-url http://127.0.0.1:9" in result.err


def test_consumer_key_must_match_the_token(logged_in: Login, run: Run) -> None:
    result = run("whoami", "--consumer-key", "another-application-key")
    assert result.status == 1
    assert "belongs to consumer key" in result.err


def test_server_down_is_one_line(logged_in: Login, run: Run) -> None:
    logged_in.fake.stop()
    result = run("whoami")
    assert result.status == 1
    assert result.err.count("\n") == 1
    assert "could not connect" in result.err
    assert "Is the server running? --base-url or FLATTR_BASE_URL chooses it" in result.err


def test_server_error_status(logged_in: Login, run: Run) -> None:
    logged_in.fake.inject_fault("/rest/0.0.1/feed/categories", "status", status=500, times=1)
    result = run("categories")
    assert result.status == 1
    assert "500" in result.err
    assert "try again later" in result.err


def test_debug_shows_traceback_and_logs_but_no_secret(logged_in: Login, run: Run) -> None:
    ok = run("--debug", "whoami")
    assert ok.status == 0
    assert "DEBUG flattr" in ok.err
    failed = run("user", "nobody", "--debug")
    assert failed.status == 1
    assert "Traceback (most recent call last)" in failed.err
    assert "NotFoundError" in failed.err
    secrets = (logged_in.record.token.secret, logged_in.fake.consumer.secret)
    for text in (ok.out, ok.err, failed.out, failed.err):
        for secret in secrets:
            assert secret not in text


def test_usage_errors_return_2_and_help_returns_0(run: Run) -> None:
    assert run("no-such-command").status == 2
    assert run().status == 2
    assert run("thing").status == 2
    assert "find-url" in run("thing").err
    assert run("feed").status == 2
    helped = run("--help")
    assert helped.status == 0
    assert "sandbox" in helped.out
    version = run("--version")
    assert version.status == 0 and version.out.startswith("flattr ")
    assert run("--profile", "../etc", "whoami").status == 2


def test_every_command_and_option_has_help() -> None:
    def walk(parser: object, path: str) -> None:
        for action in parser._actions:  # type: ignore[attr-defined]
            if action.dest == "help":
                continue
            if hasattr(action, "choices") and isinstance(action.choices, dict):
                helps = {a.dest: a.help for a in action._choices_actions}
                for name, sub in action.choices.items():
                    assert helps.get(name), f"{path} {name} has no help"
                    assert sub.description, f"{path} {name} has no description"
                    walk(sub, f"{path} {name}")
            else:
                assert action.help, f"{path}: {action.option_strings or action.dest}"

    walk(build_parser(), "flattr")
