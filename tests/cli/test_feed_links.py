"""``flattr feed links``: each entry's auto-submit link, and what Flattr makes of it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from flattr import v2
from flattr.testing import FakeFlattr

from .kit import Login, Result

Run = Callable[..., Result]

PODCAST = """<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
<channel><title>Bird sounds</title><link>https://pod.example.org/</link>
<language>en-us</language>
<item><title>Episode one: robins</title><link>/ep1</link>
  <description>&lt;p&gt;Robins at dawn.&lt;/p&gt;</description>
  <category>birds</category>
  <enclosure url="https://pod.example.org/ep1.mp3" type="audio/mpeg" length="1"/></item>
<item><title>Episode two: wrens</title><link>https://pod.example.org/ep2</link>
  <description>Wrens at dusk.</description></item>
<item><title>An entry without a link</title><description>Lost.</description></item>
</channel></rss>"""


@pytest.fixture
def feed(tmp_path: Path) -> Path:
    path = tmp_path / "podcast.xml"
    path.write_text(PODCAST, encoding="utf-8")
    return path


def test_links_carry_the_mapped_fields(run: Run, feed: Path) -> None:
    result = run("feed", "links", str(feed), "--user-id", "alice", "--json")
    assert result.status == 1  # the third entry has no link to make a thing of
    data = json.loads(result.out)
    first, second, third = data["entries"]
    query = parse_qs(urlsplit(first["link"]).query)
    assert first["link"].startswith("https://flattr.com/submit/auto?user_id=alice&url=")
    assert query["url"] == ["https://pod.example.org/ep1"]
    assert query["title"] == ["Episode one: robins"]
    assert query["description"] == ["Robins at dawn."]
    assert query["category"] == ["audio"] and query["language"] == ["en_GB"]
    assert query["tags"] == ["birds"]
    assert parse_qs(urlsplit(second["link"]).query)["category"] == ["text"]
    assert third["link"] is None and third["title"] == "An entry without a link"
    assert third["error"]["field"] == "url"
    text = run("feed", "links", str(feed), "--user-id", "alice")
    assert text.out.splitlines() == [first["link"], second["link"]]
    assert "An entry without a link" in text.err and text.status == 1


def test_the_profile_user_is_the_default(run: Run, feed: Path, logged_in: Login) -> None:
    result = run("feed", "links", str(feed), "--json")
    assert json.loads(result.out)["user_id"] == "alice"


def test_without_a_user_it_is_a_usage_error(run: Run, feed: Path) -> None:
    result = run("feed", "links", str(feed))
    assert result.status == 2 and "--user-id" in result.err
    bad = run("feed", "links", str(feed), "--user-id", "alice", "--category", "poems")
    assert bad.status == 2 and "--category" in bad.err


def test_a_printed_link_is_flattrable_on_v2(run: Run, feed: Path, fake: FakeFlattr) -> None:
    bob = fake.add_user("bob")
    links = run("feed", "links", str(feed), "--user-id", "bob").out.splitlines()
    token = fake.issue_v2_token(scopes=("flattr",))
    with v2.FlattrClient(token.token, base_url=fake.base_url) as client:
        thing_id = client.flattr_url(links[0])
        thing = client.thing(thing_id)
    assert thing.owner.username == bob.username
    assert thing.url == "https://pod.example.org/ep1" and thing.category == "audio"
    assert thing.title == "Episode one: robins"
