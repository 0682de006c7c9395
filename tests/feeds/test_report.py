"""PublishReport: readable as text, complete as JSON."""

from __future__ import annotations

import json

import flattr
from flattr.testing import FakeFlattr

from .kit import REGISTER, feed_file


def mixed_report(fake: FakeFlattr, client: flattr.FlattrClient) -> flattr.PublishReport:
    """relative_links.rss with one entry already owned: registered, skipped and failed."""
    fake.add_thing(fake.user, url="https://www.example.com/about", title="About us")
    fake.inject_fault(REGISTER, "status", status=500, times=1)
    return flattr.publish_feed(client, feed_file("relative_links.rss"), workers=1)


def test_every_entry_is_in_exactly_one_list(fake: FakeFlattr, client: flattr.FlattrClient) -> None:
    report = mixed_report(fake, client)

    assert report.total == 6
    assert [r.index for r in report.results] == [0, 1, 2, 3, 4, 5]
    assert (len(report.registered), len(report.skipped), len(report.failed)) == (3, 1, 2)
    assert not report.ok


def test_str_has_a_summary_and_a_line_per_entry(
    fake: FakeFlattr, client: flattr.FlattrClient
) -> None:
    report = mixed_report(fake, client)

    lines = str(report).splitlines()
    assert lines[0] == (
        f"{feed_file('relative_links.rss')} (Relative links): "
        "3 registered, 1 skipped, 2 failed of 6 entries"
    )
    assert "  = https://www.example.com/about  already registered (you own it)" in lines
    assert sum(line.startswith("  + https://") for line in lines) == 3
    assert "  ! mailto:someone@example.com  ValidationError: url: must be an absolute" in (
        "\n".join(lines)
    )
    assert any(line.startswith("  ! https://") and "RegistrationError" in line for line in lines)
    assert repr(report) == (
        f"PublishReport(source={str(feed_file('relative_links.rss'))!r}, "
        "registered=3, skipped=1, failed=2)"
    )


def test_json_holds_every_fact(fake: FakeFlattr, client: flattr.FlattrClient) -> None:
    report = mixed_report(fake, client)

    data = json.loads(report.to_json())

    assert data["counts"] == {
        "total": 6,
        "registered": 3,
        "skipped": 1,
        "failed": 2,
        "retryable": 1,  # the refused register: a rerun may get past it
        "permanent": 1,  # the mailto: link can never be a thing
    }
    assert data["dry_run"] is False
    assert data["feed_title"] == "Relative links"
    assert data == report.to_dict()

    registered = data["registered"][0]
    thing = report.registered[0].thing
    assert thing is not None
    assert registered["thing"]["id"] == thing.id
    assert registered["thing"]["owner"] == "alice"
    assert registered["thing"]["category"] == "text"
    assert registered["draft"]["language"] == "en_GB"
    assert registered["outcome"] == "registered"

    [skipped] = data["skipped"]
    assert skipped["reason"] == "already registered"
    assert skipped["thing"]["title"] == "About us"

    errors = {f["url"]: f["error"] for f in data["failed"]}
    assert errors["mailto:someone@example.com"]["type"] == "ValidationError"
    assert errors["mailto:someone@example.com"]["field"] == "url"
    [server_error] = [e for url, e in errors.items() if url.startswith("https://")]
    assert server_error["type"] == "RegistrationError"
    assert server_error["status"] == 500


def test_dry_run_report(fake: FakeFlattr, client: flattr.FlattrClient) -> None:
    report = flattr.publish_feed(client, feed_file("podcast.xml"), dry_run=True)

    data = json.loads(report.to_json(indent=None))
    assert data["dry_run"] is True
    assert all(item["thing"] is None for item in data["registered"])
    assert data["registered"][0]["warnings"] == [
        "the title was shorter than 5 characters; the feed title was added"
    ]
    assert repr(report).endswith("registered=4, skipped=0, failed=0, dry_run=True)")
    assert "Dry run: 4 would be registered" in str(report)
    assert "      warning: the title was shorter" in str(report)


def test_report_holds_no_credentials(fake: FakeFlattr, client: flattr.FlattrClient) -> None:
    token = fake.issue_access_token(scopes=("read", "publish"))
    with flattr.FlattrClient(
        fake.consumer.key, fake.consumer.secret, token, base_url=fake.base_url
    ) as own:
        fake.inject_fault(REGISTER, "drop_after_read")
        report = flattr.publish_feed(own, feed_file("blog.rss"))

    text = str(report) + report.to_json() + repr(report)
    for secret in (fake.consumer.secret, token.secret, token.key, fake.consumer.key):
        assert secret not in text
    assert len(report.failed) == 1


def test_failures_say_whether_a_rerun_can_get_past_them(
    fake: FakeFlattr, client: flattr.FlattrClient
) -> None:
    """A 503 on register can pass on a rerun; an entry that cannot become a thing cannot."""
    fake.inject_fault(REGISTER, "status", status=503, times=1)
    report = flattr.publish_feed(client, feed_file("relative_links.rss"), workers=1)

    [retry] = report.retryable
    [fix] = report.permanent
    assert isinstance(retry.error, flattr.ServerError) and retry.retryable
    assert isinstance(fix.error, flattr.ValidationError) and not fix.retryable
    data = json.loads(report.to_json())
    assert data["counts"]["retryable"] == 1 and data["counts"]["permanent"] == 1
    by_index = {entry["index"]: entry for entry in data["failed"]}
    assert by_index[retry.index]["retryable"] is True
    assert by_index[fix.index]["retryable"] is False
    text = str(report)
    assert "(a rerun may get past it)" in text and "(fix it first)" in text

    again = flattr.publish_feed(client, feed_file("relative_links.rss"), workers=1)
    assert again.retryable == ()  # the rerun got past the 503
    assert [f.index for f in again.permanent] == [fix.index]  # and not past the fix
