"""publish_feed with the shipped feeds, against FakeFlattr over real HTTP."""

from __future__ import annotations

import re

import pytest

import flattr
from flattr.testing import FakeFlattr

from .kit import REGISTER, feed_file, register_attempts


def things_by_url(fake: FakeFlattr) -> dict[str, object]:
    return {thing.url: thing for thing in fake.things}


def test_rss_blog(fake: FakeFlattr, client: flattr.FlattrClient) -> None:
    report = flattr.publish_feed(client, str(feed_file("blog.rss")))

    assert report.ok
    assert report.feed_title == "Bird notes"
    assert [r.url for r in report.registered] == [
        "https://birds.example.org/2010/01/welcome",
        "https://birds.example.org/2010/03/robins",
        "https://birds.example.org/2010/02/voegel",
        # upper-case scheme and host, the default port and the fragment are gone
        "http://birds.example.org/2010/04/owls",
    ]
    stored = things_by_url(fake)
    assert set(stored) == {r.url for r in report.registered}

    welcome = fake.thing_by_url("https://birds.example.org/2010/01/welcome")
    assert welcome is not None
    assert welcome.owner is fake.user
    assert welcome.title == "Welcome to the bird blog"
    assert welcome.description == "Hello & welcome! This blog is about garden birds."
    # "birds" repeats "Birds", the comma is removed, empty categories are dropped
    assert welcome.tags == ("Birds", "news updates", "Garden")
    assert welcome.language == "en_GB"  # en-us
    assert welcome.category == "text"
    assert welcome.hidden is False

    german = fake.thing_by_url("https://birds.example.org/2010/02/voegel")
    assert german is not None
    assert german.language == "de_DE"  # the entry's own dc:language wins over the feed's
    assert german.title == "Vögel im Winter"

    robins = fake.thing_by_url("https://birds.example.org/2010/03/robins")
    assert robins is not None
    assert robins.description == "Two robins built a nest in the hedge."  # summary before content

    # what the report says is what the server stored
    for result in report.registered:
        assert result.thing is not None
        assert result.thing.url == result.url
        assert result.thing.id == stored[result.url].id  # type: ignore[attr-defined]
        assert result.thing.title == result.draft.title


def test_atom_blog(fake: FakeFlattr, client: flattr.FlattrClient) -> None:
    report = flattr.publish_feed(client, feed_file("blog.atom"))

    assert report.ok
    assert [r.url for r in report.registered] == [
        "https://notes.example.net/posts/first",  # relative to xml:base
        "https://notes.example.net/posts/paris",
        "https://video.example.net/forest",
    ]
    first = fake.thing_by_url("https://notes.example.net/posts/first")
    assert first is not None
    assert first.language == "sv_SE"  # xml:lang="sv-SE" on the feed
    assert first.description == "Ett första inlägg om fåglar & skog."
    assert first.tags == ("fåglar", "skog")

    paris = fake.thing_by_url("https://notes.example.net/posts/paris")
    assert paris is not None
    assert paris.language == "fr_FR"  # xml:lang="fr" on the entry
    assert paris.title == "Un café à Paris"  # an HTML title, tags stripped
    assert paris.description == "Le café & les croissants."  # from <content>

    forest = fake.thing_by_url("https://video.example.net/forest")
    assert forest is not None
    assert forest.category == "video"  # a video/mp4 enclosure
    assert forest.description == "A short film of the forest in spring."  # xhtml content


def test_podcast_with_enclosures_and_itunes_tags(
    fake: FakeFlattr, client: flattr.FlattrClient
) -> None:
    report = flattr.publish_feed(client, feed_file("podcast.xml"))

    assert report.ok
    by_url = {r.url: r for r in report.registered}
    assert list(by_url) == [f"https://radio.example.org/episodes/{n}" for n in (1, 2, 3, 4)]

    ep1 = fake.thing_by_url("https://radio.example.org/episodes/1")
    assert ep1 is not None
    assert ep1.category == "audio"
    assert ep1.description == "We plant tomatoes and talk about soil."  # itunes:summary
    assert ep1.tags == ("tomatoes", "soil")  # itunes:keywords, "Tomatoes" repeats
    assert ep1.language == "en_GB"
    # "Ep 1" is under Flattr's 5-character minimum: the feed title is added, and said so
    assert ep1.title == "Ep 1 - Garden Radio"
    assert any("feed title" in w for w in by_url[ep1.url].warnings)

    ep2 = fake.thing_by_url("https://radio.example.org/episodes/2")
    assert ep2 is not None
    assert ep2.category == "audio"  # no type on the enclosure; .m4a says audio

    ep3 = fake.thing_by_url("https://radio.example.org/episodes/3")
    assert ep3 is not None
    assert ep3.category == "video"

    ep4 = fake.thing_by_url("https://radio.example.org/episodes/4")
    assert ep4 is not None
    # nothing but a title: the description is padded with it, with a warning
    assert ep4.description == "Episode 4: Questions from listeners"
    assert any("no summary or content" in w for w in by_url[ep4.url].warnings)
    assert not by_url["https://radio.example.org/episodes/2"].warnings


def test_html_heavy_and_overlong_summaries(fake: FakeFlattr, client: flattr.FlattrClient) -> None:
    report = flattr.publish_feed(client, feed_file("html_heavy.rss"))

    assert report.ok
    feast = fake.thing_by_url("https://markup.example.com/feast")
    assert feast is not None
    assert feast.description == (
        "Café menu\n\n"
        "It\u2019s open \u2014 every day.\nBring a friend.\n\n"
        "Coffee\nTea & cake\n\n"
        "Mon 9\u201317\n\n"
        "Full menu"
    )
    assert feast.language == "fr_FR"

    essay = fake.thing_by_url("https://markup.example.com/essay")
    assert essay is not None
    assert len(essay.description) <= 1000
    assert len(essay.description) > 900
    assert essay.description.endswith("…")
    kept = essay.description[:-1]
    original = re.search(r"<p>(the quick .*?)</p>", feed_file("html_heavy.rss").read_text())
    assert original is not None
    # cut on a word boundary: what is kept is the start of the text, up to a space
    assert original.group(1).startswith(kept)
    assert original.group(1)[len(kept)] == " "

    nothing = fake.thing_by_url("https://markup.example.com/nothing")
    assert nothing is not None
    assert nothing.description == "Nothing to say here"

    escaped = fake.thing_by_url("https://markup.example.com/escaped")
    assert escaped is not None
    assert escaped.description == "Fish & chips <3"

    giant = fake.thing_by_url("https://markup.example.com/giant")
    assert giant is not None
    # one word longer than the limit is cut inside the word
    assert giant.description == "x" * 999 + "…"

    warned = {r.url for r in report.registered if r.warnings}
    assert warned == {"https://markup.example.com/nothing"}


def test_relative_links(fake: FakeFlattr, client: flattr.FlattrClient) -> None:
    report = flattr.publish_feed(client, feed_file("relative_links.rss"))

    assert [r.url for r in report.registered] == [
        "https://www.example.com/blog/2010/root-relative",
        "https://www.example.com/blog/2010/document-relative",
        "https://www.example.com/about",
        "https://static.example.com/page",
        "https://other.example.org/base/post",
    ]
    assert {t.url for t in fake.things} == {r.url for r in report.registered}
    # the mailto: link fails on its own, before anything is sent for it
    [failed] = report.failed
    assert failed.url == "mailto:someone@example.com"
    assert isinstance(failed.error, flattr.ValidationError)
    assert failed.error.field == "url"
    assert failed.draft is None
    assert len(fake.requests_to(REGISTER, "POST")) == 5


def test_malformed_feed_is_a_validation_error(
    fake: FakeFlattr, client: flattr.FlattrClient
) -> None:
    with pytest.raises(flattr.ValidationError, match="not a readable RSS or Atom feed") as info:
        flattr.publish_feed(client, feed_file("malformed.xml"))
    assert info.value.field == "source"
    assert fake.requests == []  # not even the user's things were listed


def test_recoverable_errors_still_publish(fake: FakeFlattr, client: flattr.FlattrClient) -> None:
    report = flattr.publish_feed(client, feed_file("recoverable.rss"))

    assert [r.url for r in report.registered] == [
        "https://tom.example.org/cheese",
        "https://tom.example.org/holes",
    ]
    assert len(report.warnings) == 1
    assert "not well-formed" in report.warnings[0]
    assert "warning: the feed is not well-formed" in str(report)


def test_rerun_registers_nothing_new(fake: FakeFlattr, client: flattr.FlattrClient) -> None:
    first = flattr.publish_feed(client, feed_file("podcast.xml"))
    attempts = len(fake.requests_to(REGISTER))
    stored = [t.id for t in fake.things]

    second = flattr.publish_feed(client, feed_file("podcast.xml"))

    assert len(first.registered) == 4
    assert second.registered == ()
    assert second.failed == ()
    assert [s.reason for s in second.skipped] == [flattr.SkipReason.ALREADY_REGISTERED] * 4
    assert [s.thing.id for s in second.skipped if s.thing] == [
        r.thing.id for r in first.registered if r.thing
    ]
    assert len(fake.requests_to(REGISTER)) == attempts  # no register call at all
    assert [t.id for t in fake.things] == stored


def test_every_shipped_valid_feed_publishes_in_one_client(
    fake: FakeFlattr, client: flattr.FlattrClient
) -> None:
    total = 0
    for name in ("blog.rss", "blog.atom", "podcast.xml", "html_heavy.rss", "recoverable.rss"):
        report = flattr.publish_feed(client, feed_file(name), workers=2)
        assert report.ok, str(report)
        total += len(report.registered)
    assert len(fake.things) == total == 18
    urls = [url for url, _ in register_attempts(fake)]
    assert len(urls) == len(set(urls))
