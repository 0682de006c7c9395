"""publish_feed when things go wrong: server faults, lost answers, duplicates, bad entries."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from xml.sax.saxutils import escape

import pytest

import flattr
from flattr.testing import FakeFlattr

from .kit import REGISTER, feed_file, register_attempts


def rss(items: list[dict[str, str]], *, language: str | None = "en") -> str:
    """An RSS 2.0 document with one <item> per dict (keys are element names)."""
    body = "".join(
        "<item>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in item.items()) + "</item>"
        for item in items
    )
    lang = f"<language>{language}</language>" if language else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Generated feed</title><link>https://gen.example.org/</link>{lang}"
        f"{body}</channel></rss>"
    )


def numbered(count: int) -> str:
    return rss(
        [
            {
                "title": f"Post number {n}",
                "link": f"https://gen.example.org/posts/{n}",
                "description": f"The text of post number {n}.",
            }
            for n in range(1, count + 1)
        ]
    )


def test_every_third_register_fails_then_a_second_run_completes(
    fake: FakeFlattr, client: flattr.FlattrClient
) -> None:
    feed = numbered(12)
    fake.inject_fault(REGISTER, "status", status=500, every=3)

    first = flattr.publish_feed(client, feed, workers=4)

    attempts = register_attempts(fake)
    assert len(attempts) == 12  # one attempt per entry, none retried
    refused = {url for url, status in attempts if status == 500}
    assert len(refused) == 4
    assert {f.url for f in first.failed} == refused
    assert {r.url for r in first.registered} == {url for url, status in attempts if status == 200}
    assert len(first.registered) == 8
    for failure in first.failed:
        assert isinstance(failure.error, flattr.RegistrationError)
        assert not failure.error.duplicate
        assert failure.draft is not None
    assert not first.ok

    fake.clear_faults()
    second = flattr.publish_feed(client, feed, workers=4)

    assert second.ok
    assert {r.url for r in second.registered} == refused
    assert {s.url for s in second.skipped} == {r.url for r in first.registered}
    all_attempts = register_attempts(fake)
    assert len(all_attempts) == 16  # the 4 missing ones, nothing else
    successes = Counter(url for url, status in all_attempts if status == 200)
    assert set(successes.values()) == {1}  # no thing registered twice
    assert len(successes) == 12
    assert sorted(t.url for t in fake.things) == sorted(successes)


def test_lost_answer_after_registering_is_confirmed_with_thing_by_url(
    fake: FakeFlattr, client: flattr.FlattrClient
) -> None:
    fake.inject_fault(REGISTER, "drop_after_processing")

    report = flattr.publish_feed(client, numbered(5), workers=2)

    assert report.ok
    assert len(report.registered) == 5
    [confirmed] = [r for r in report.registered if r.warnings]
    assert "thing_by_url confirmed" in confirmed.warnings[0]
    assert confirmed.thing is not None
    assert confirmed.thing.url == confirmed.url
    assert len(register_attempts(fake)) == 5  # the lost one was not sent again
    lookups = fake.requests_to("/rest/0.0.1/thing/get/")
    assert [r.query["url"] for r in lookups] == [[confirmed.url]]
    assert len(fake.things) == 5


def test_lost_request_is_a_failure_and_is_not_resent(
    fake: FakeFlattr, client: flattr.FlattrClient
) -> None:
    fake.inject_fault(REGISTER, "drop_after_read")

    first = flattr.publish_feed(client, numbered(5), workers=2)

    [failure] = first.failed
    assert isinstance(failure.error, flattr.UncertainResultError)
    assert len(first.registered) == 4
    assert len(register_attempts(fake)) == 5
    assert fake.thing_by_url(failure.url) is None

    second = flattr.publish_feed(client, numbered(5), workers=2)
    assert [r.url for r in second.registered] == [failure.url]
    assert len(register_attempts(fake)) == 6
    assert len(fake.things) == 5


def test_lost_request_and_failed_lookup(fake: FakeFlattr, client: flattr.FlattrClient) -> None:
    fake.inject_fault(REGISTER, "drop_after_read")
    fake.inject_fault("/rest/0.0.1/thing/get/", "status", status=500)

    report = flattr.publish_feed(client, numbered(1))

    [failure] = report.failed
    assert isinstance(failure.error, flattr.UncertainResultError)
    assert "checking with thing_by_url failed too" in failure.warnings[-1]
    assert len(register_attempts(fake)) == 1


def test_url_taken_by_someone_else_counts_as_already_registered(
    fake: FakeFlattr, client: flattr.FlattrClient
) -> None:
    bob = fake.add_user("bob")
    fake.add_thing(bob, url="https://birds.example.org/2010/03/robins", title="Bob's robins")

    report = flattr.publish_feed(client, feed_file("blog.rss"))

    assert report.ok
    assert len(report.registered) == 3
    [taken] = report.skipped
    assert taken.url == "https://birds.example.org/2010/03/robins"
    assert taken.reason is flattr.SkipReason.ALREADY_REGISTERED
    assert taken.thing is not None
    assert taken.thing.owner.username == "bob"
    assert "server says so" in taken.detail
    assert len(register_attempts(fake)) == 4  # tried once, not again


def test_own_things_are_compared_normalised(fake: FakeFlattr, client: flattr.FlattrClient) -> None:
    fake.add_thing(
        fake.user,
        url="HTTPS://Birds.Example.org:443/2010/01/welcome#top",
        title="Welcome (registered by hand)",
        hidden=True,
    )

    report = flattr.publish_feed(client, feed_file("blog.rss"))

    [skipped] = report.skipped
    assert skipped.url == "https://birds.example.org/2010/01/welcome"
    assert skipped.detail == "you own it"
    assert skipped.thing is not None
    assert skipped.thing.title == "Welcome (registered by hand)"
    attempted = [url for url, _ in register_attempts(fake)]
    assert "https://birds.example.org/2010/01/welcome" not in attempted
    assert len(attempted) == 3
    assert len(fake.requests_to("/rest/0.0.1/thing/listbyuser/")) == 1  # listed once


def test_repeated_entry_in_one_feed(fake: FakeFlattr, client: flattr.FlattrClient) -> None:
    feed = rss(
        [
            {"title": "First copy", "link": "https://gen.example.org/a", "description": "One."},
            {"title": "Second copy", "link": "https://GEN.example.org/a#x", "description": "Two."},
        ]
    )

    report = flattr.publish_feed(client, feed)

    assert [r.title for r in report.registered] == ["First copy"]
    [repeat] = report.skipped
    assert repeat.reason is flattr.SkipReason.DUPLICATE_ENTRY
    assert repeat.detail == "same URL as entry 1"
    assert len(register_attempts(fake)) == 1


def test_entries_that_cannot_become_things_fail_alone(
    fake: FakeFlattr, client: flattr.FlattrClient
) -> None:
    feed = rss(
        [
            {"title": "No link at all", "description": "Nothing to point at."},
            {"link": "https://gen.example.org/untitled", "description": "Untitled but has text."},
            {"title": "Fine entry", "link": "https://gen.example.org/fine", "description": "OK!"},
            {"title": "Hi", "link": "https://gen.example.org/hi", "description": "Short title."},
        ]
    )

    report = flattr.publish_feed(client, feed)

    [no_link] = report.failed
    assert isinstance(no_link.error, flattr.ValidationError)
    assert no_link.error.field == "url"
    assert no_link.title == "No link at all"
    by_url = {r.url: r for r in report.registered}
    untitled = by_url["https://gen.example.org/untitled"]
    assert untitled.title == "Untitled but has text."
    assert "no title" in untitled.warnings[0]
    fine = by_url["https://gen.example.org/fine"]
    assert fine.draft.description == "Fine entry - OK!"  # "OK!" is under 5 characters
    assert by_url["https://gen.example.org/hi"].title == "Hi - Generated feed"
    assert len(register_attempts(fake)) == 3


def test_unknown_language_needs_the_language_argument(
    fake: FakeFlattr, client: flattr.FlattrClient
) -> None:
    feed = numbered(2).replace("<language>en</language>", "<language>x-klingon</language>")

    without = flattr.publish_feed(client, feed)

    assert len(without.failed) == 2
    for failure in without.failed:
        assert isinstance(failure.error, flattr.ValidationError)
        assert failure.error.field == "language"
        assert "x-klingon" in str(failure.error)
    assert fake.requests_to(REGISTER) == []

    with_fallback = flattr.publish_feed(client, feed, language="en-us")
    assert len(with_fallback.registered) == 2
    assert {t.language for t in fake.things} == {"en_GB"}


def test_missing_language_falls_back_to_the_argument(
    fake: FakeFlattr, client: flattr.FlattrClient
) -> None:
    feed = rss([{"title": "No language", "link": "https://gen.example.org/nl"}], language=None)

    report = flattr.publish_feed(client, feed, language="sv_SE")

    assert [t.language for t in fake.things] == ["sv_SE"]
    assert report.ok


def test_category_and_hidden_arguments(fake: FakeFlattr, client: flattr.FlattrClient) -> None:
    report = flattr.publish_feed(client, feed_file("podcast.xml"), category="rest", hidden=True)

    assert len(report.registered) == 4
    assert {t.category for t in fake.things} == {"rest"}
    assert {t.hidden for t in fake.things} == {True}


def test_dry_run_sends_no_register_call(fake: FakeFlattr, client: flattr.FlattrClient) -> None:
    fake.add_thing(fake.user, url="https://radio.example.org/episodes/3", title="Episode three")

    report = flattr.publish_feed(client, feed_file("podcast.xml"), dry_run=True)

    assert report.dry_run
    assert [r.url for r in report.registered] == [
        "https://radio.example.org/episodes/1",
        "https://radio.example.org/episodes/2",
        "https://radio.example.org/episodes/4",
    ]
    assert all(r.thing is None for r in report.registered)
    assert report.registered[0].draft.category == "audio"
    assert [s.url for s in report.skipped] == ["https://radio.example.org/episodes/3"]
    assert fake.requests_to(REGISTER) == []
    assert len(fake.things) == 1
    assert report.summary().startswith("Dry run: 3 would be registered")


def test_on_progress_sees_every_entry_in_the_calling_thread(
    fake: FakeFlattr, client: flattr.FlattrClient
) -> None:
    fake.add_thing(fake.user, url="https://www.example.com/about", title="About us")
    calls: list[flattr.PublishProgress] = []
    threads: set[int] = set()

    def progress(update: flattr.PublishProgress) -> None:
        calls.append(update)
        threads.add(threading.get_ident())

    report = flattr.publish_feed(
        client, feed_file("relative_links.rss"), workers=3, on_progress=progress
    )

    assert [c.done for c in calls] == [1, 2, 3, 4, 5, 6]
    assert {c.total for c in calls} == {6}
    assert sorted(c.result.index for c in calls) == list(range(6))
    assert {id(c.result) for c in calls} == {id(r) for r in report.results}
    assert Counter(c.result.outcome for c in calls) == {"registered": 4, "skipped": 1, "failed": 1}
    assert threads == {threading.get_ident()}


def test_exception_in_on_progress_stops_and_a_rerun_is_safe(
    fake: FakeFlattr, client: flattr.FlattrClient
) -> None:
    class Stop(Exception):
        pass

    def stop_at_third(update: flattr.PublishProgress) -> None:
        if update.done == 3:
            raise Stop

    with pytest.raises(Stop):
        flattr.publish_feed(client, numbered(20), workers=2, on_progress=stop_at_third)
    started = len(register_attempts(fake))
    assert 3 <= started < 20  # what was not started yet was cancelled

    report = flattr.publish_feed(client, numbered(20), workers=2)

    assert len(report.registered) + len(report.skipped) == 20
    assert len(report.skipped) == started
    successes = Counter(url for url, status in register_attempts(fake) if status == 200)
    assert len(successes) == 20
    assert set(successes.values()) == {1}


def test_token_without_publish_scope_fails_every_entry(
    fake: FakeFlattr, make_client: Callable[..., flattr.FlattrClient]
) -> None:
    reader = make_client(scopes=("read",))

    report = flattr.publish_feed(reader, numbered(3))

    assert len(report.failed) == 3
    assert all(isinstance(f.error, flattr.ForbiddenError) for f in report.failed)
    assert fake.things == ()


def test_revoked_token_raises_before_registering(fake: FakeFlattr) -> None:
    token = fake.issue_access_token(scopes=("read", "publish"))
    fake.revoke(token.key)

    with (
        flattr.FlattrClient(
            fake.consumer.key, fake.consumer.secret, token, base_url=fake.base_url, timeout=10
        ) as revoked,
        pytest.raises(flattr.AuthenticationError),
    ):
        flattr.publish_feed(revoked, numbered(3))
    assert len(fake.requests_to("/rest/0.0.1/thing/listbyuser/")) == 1
    assert fake.requests_to(REGISTER) == []


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"workers": 0}, "workers"),
        ({"workers": 33}, "workers"),
        ({"workers": True}, "workers"),
        ({"workers": 2.5}, "workers"),
        ({"category": "blog"}, "category"),
        ({"language": "klingon"}, "language"),
        ({"hidden": "yes"}, "hidden"),
        ({"on_progress": 5}, "on_progress"),
    ],
)
def test_bad_options_are_refused_before_anything_is_sent(
    fake: FakeFlattr, client: flattr.FlattrClient, options: dict[str, object], field: str
) -> None:
    with pytest.raises(flattr.ValidationError) as info:
        flattr.publish_feed(client, numbered(1), **options)  # type: ignore[arg-type]
    assert info.value.field == field
    assert fake.requests == []
