"""``flattr feed publish`` against FakeFlattr: table, JSON, dry run, failures, progress bar."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import flattr
from flattr.cli import main

from .kit import Login, Result

Run = Callable[..., Result]

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Bird notes</title>
<link>https://birds.example.org/</link><language>{language}</language>
<item><title>The robin in spring</title><link>https://birds.example.org/robin</link>
  <description>Robins and their nests.</description></item>
<item><title>Owls at night</title><link>https://birds.example.org/owls</link>
  <description>Owls hunting after dark.</description></item>
<item><title>Swifts</title><link>https://birds.example.org/swifts</link>
  <description>They sleep on the wing.</description></item>
</channel></rss>
"""
URLS = {
    "https://birds.example.org/robin",
    "https://birds.example.org/owls",
    "https://birds.example.org/swifts",
}


@pytest.fixture
def feed_file(tmp_path: Path) -> Path:
    path = tmp_path / "birds.rss"
    path.write_text(FEED.format(language="en-us"), encoding="utf-8")
    return path


def owned_urls(login: Login) -> set[str]:
    return {t.url for t in login.fake.things}


def test_publish_registers_every_entry_then_skips_them(
    logged_in: Login, run: Run, feed_file: Path
) -> None:
    first = run("feed", "publish", str(feed_file))
    assert first.status == 0, first.err
    assert owned_urls(logged_in) == URLS
    lines = first.out.splitlines()
    assert lines[0] == f"{feed_file} (Bird notes)"
    assert lines[1].split() == ["OUTCOME", "URL", "TITLE", "NOTE"]
    assert sum(line.startswith("registered ") for line in lines) == 3
    assert lines[-1] == "3 registered, 0 skipped, 0 failed of 3 entries"
    assert "\r" not in first.out  # no progress bar when stdout is not a terminal
    assert first.err == ""

    again = run("feed", "publish", str(feed_file))
    assert again.status == 0
    assert again.out.splitlines()[-1] == "0 registered, 3 skipped, 0 failed of 3 entries"
    assert again.out.count("already registered") == 3
    assert len(logged_in.fake.things) == 3


def test_dry_run_registers_nothing(logged_in: Login, run: Run, feed_file: Path) -> None:
    result = run("feed", "publish", str(feed_file), "--dry-run")
    assert result.status == 0
    assert result.out.count("would register ") == 3
    assert result.out.count("text, en_GB") == 3
    assert result.out.splitlines()[-1].startswith("Dry run: 3 would be registered")
    assert logged_in.fake.things == ()
    assert logged_in.fake.requests_to("/rest/0.0.1/thing/register") == []


def test_json_report(logged_in: Login, run: Run, feed_file: Path) -> None:
    result = run("feed", "publish", str(feed_file), "--json", "--category", "images")
    assert result.status == 0
    report = json.loads(result.out)
    assert report["counts"] == {
        "total": 3,
        "registered": 3,
        "skipped": 0,
        "failed": 0,
        "retryable": 0,
        "permanent": 0,
    }
    assert {r["url"] for r in report["registered"]} == URLS
    assert {r["thing"]["category"] for r in report["registered"]} == {"images"}


def test_a_failed_entry_exits_1_and_a_rerun_finishes_the_job(
    logged_in: Login, run: Run, feed_file: Path
) -> None:
    logged_in.fake.inject_fault("/rest/0.0.1/thing/register", "status", status=500, times=1)
    failed = run("feed", "publish", str(feed_file), "--workers", "1")
    assert failed.status == 1
    assert failed.out.splitlines()[-1] == "2 registered, 0 skipped, 1 failed of 3 entries"
    (failed_row,) = [line for line in failed.out.splitlines() if line.startswith("failed ")]
    assert "the server refused to register the thing" in failed_row
    assert "1 of 3 entries failed for reasons a rerun may get past; run the same" in failed.err
    assert "cannot be registered as they are" not in failed.err
    assert len(logged_in.fake.things) == 2

    rerun = run("feed", "publish", str(feed_file))
    assert rerun.status == 0
    assert rerun.out.splitlines()[-1] == "1 registered, 2 skipped, 0 failed of 3 entries"
    assert owned_urls(logged_in) == URLS


def test_unknown_feed_language_needs_language_option(
    logged_in: Login, run: Run, tmp_path: Path
) -> None:
    feed = tmp_path / "klingon.rss"
    feed.write_text(FEED.format(language="tlh"), encoding="utf-8")
    without = run("feed", "publish", str(feed), "--json")
    assert without.status == 1
    report = json.loads(without.out)
    assert report["counts"]["failed"] == 3
    assert {f["error"]["field"] for f in report["failed"]} == {"language"}
    assert logged_in.fake.things == ()

    with_option = run("feed", "publish", str(feed), "--language", "en_GB")
    assert with_option.status == 0
    assert {t.language for t in logged_in.fake.things} == {"en_GB"}


def test_progress_bar_goes_to_a_terminal_stderr_only(
    logged_in: Login, feed_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out, err = Terminal(), Terminal()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    assert main(["feed", "publish", str(feed_file)]) == 0
    assert "3/3" in err.getvalue() and "\r" in err.getvalue()  # tqdm redraws in place
    assert "\r" not in out.getvalue()
    assert out.getvalue().rstrip().endswith("3 registered, 0 skipped, 0 failed of 3 entries")

    out, err = Terminal(), Terminal()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    assert main(["feed", "publish", str(feed_file), "--json"]) == 0
    assert "\r" not in out.getvalue()
    assert json.loads(out.getvalue())["counts"]["skipped"] == 3


def test_quiet_silences_the_progress_bar(
    logged_in: Login, feed_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    err = Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    assert main(["feed", "publish", str(feed_file), "--quiet"]) == 0
    assert "\r" not in err.getvalue() and "3/3" not in err.getvalue()


def test_no_progress_bar_when_stderr_is_not_a_terminal(
    logged_in: Login, feed_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["feed", "publish", str(feed_file)]) == 0
    assert "\r" not in capsys.readouterr().err


def test_feed_from_stdin(
    logged_in: Login, run: Run, feed_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Stdin(io.StringIO):
        buffer = io.BytesIO(feed_file.read_bytes())

    monkeypatch.setattr(sys, "stdin", Stdin())
    result = run("feed", "publish", "-")
    assert result.status == 0, result.err
    assert result.out.startswith("feed text (Bird notes)")
    assert owned_urls(logged_in) == URLS


def test_bad_source_and_options_are_usage_errors(logged_in: Login, run: Run) -> None:
    missing = run("feed", "publish", "/no/such/feed.xml")
    assert missing.status == 2
    assert missing.err.startswith("flattr: error: source:")
    assert run("feed", "publish", "x.rss", "--workers", "0").status == 2
    bad_category = run("feed", "publish", "x.rss", "--category", "poetry")
    assert bad_category.status == 2
    assert "category" in bad_category.err
    assert logged_in.fake.requests_to("/rest/0.0.1/thing/register") == []


def test_without_publish_scope_every_entry_fails_with_a_hint(
    logged_in: Login, run: Run, feed_file: Path, config_dir: Path
) -> None:
    from flattr.tokenstore import StoredToken

    token = logged_in.fake.issue_access_token(scopes=("read",))
    logged_in.store.delete("default")
    logged_in.store.save(
        "default",
        StoredToken(
            token=flattr.AccessToken(token.key, token.secret),
            consumer_key=logged_in.fake.consumer.key,
            base_url=logged_in.fake.base_url,
            scopes=("read",),
        ),
    )
    result = run("feed", "publish", str(feed_file))
    assert result.status == 1
    assert (
        result.out.count("this token lacks the publish scope. Log in again with the publish") == 3
    )
    assert result.out.count("`flattr login --scope read,publish`") == 3


def test_failures_a_rerun_cannot_fix_are_told_apart(
    logged_in: Login, run: Run, tmp_path: Path
) -> None:
    """An entry with a mailto: link needs a fix; a 503 on register passes on a rerun."""
    feed = tmp_path / "mixed.rss"
    feed.write_text(
        '<rss version="2.0"><channel><title>Mixed</title><link>https://mixed.example.org/</link>'
        "<language>en</language>"
        "<item><title>Mail me</title><link>mailto:someone@example.org</link>"
        "<description>Write to me.</description></item>"
        "<item><title>No description here</title><link>/bare</link></item>"
        "<item><title>Fine post</title><link>/fine</link>"
        "<description>Nothing wrong here.</description></item>"
        "</channel></rss>"
    )
    logged_in.fake.inject_fault("/rest/0.0.1/thing/register", "status", status=503, times=1)
    result = run("feed", "publish", str(feed), "--workers", "1")
    assert result.status == 1
    out = result.out
    assert "Failed, a rerun may get past these:" in out
    assert "Failed, to fix before a rerun:" in out
    assert "failed (fix)" in out and "failed (retry)" in out
    assert "1 of 3 entries failed for reasons a rerun may get past" in result.err
    assert "1 of 3 entries cannot be registered as they are" in result.err
    # the warning, whole, on a line of its own after the table
    [warning] = out[out.index("Warnings:") :].splitlines()[1:2]
    assert warning.startswith("  https://mixed.example.org/bare: ")
    assert "..." not in warning and len(warning) > 60  # longer than a table cell allows

    rerun = run("feed", "publish", str(feed), "--json")
    assert rerun.status == 1
    counts = json.loads(rerun.out)["counts"]
    assert counts["retryable"] == 0 and counts["permanent"] == 1
    assert "cannot be registered as they are" in rerun.err
    assert "a rerun may get past" not in rerun.err
