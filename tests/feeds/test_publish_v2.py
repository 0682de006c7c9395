"""publish_feed with an API v2 client, over real HTTP against FakeFlattr's v2."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import flattr
from flattr import v2
from flattr.feeds import SkipReason
from flattr.testing import FakeFlattr

RSS = """<rss version="2.0"><channel><title>Bird notes</title>
  <link>https://birds.example.org/</link><language>en-us</language>
  <item><title>The robin in spring</title><link>/robin</link>
    <description>Robins and their nests.</description></item>
  <item><title>The wren in winter</title><link>/wren</link>
    <description>Small and loud.</description></item>
  <item><title>The robin again</title><link>/robin</link>
    <description>Same post, listed twice.</description></item>
  <item><title>The blackbird at dusk</title><link>/blackbird</link>
    <description>It sings late.</description></item>
</channel></rss>"""


@pytest.fixture
def client(fake: FakeFlattr) -> Iterator[v2.FlattrClient]:
    token = fake.issue_v2_token(scopes=("thing",))
    with v2.FlattrClient(token.token, base_url=fake.base_url) as c:
        yield c


def test_first_run_creates_and_skips_the_duplicate_entry(
    fake: FakeFlattr, client: v2.FlattrClient
) -> None:
    report = flattr.publish_feed(client, RSS, workers=2)
    assert report.failed == ()
    assert [r.url for r in report.registered] == [
        "https://birds.example.org/robin",
        "https://birds.example.org/wren",
        "https://birds.example.org/blackbird",
    ]
    assert all(isinstance(r.thing, v2.Thing) for r in report.registered)
    assert [s.reason for s in report.skipped] == [SkipReason.DUPLICATE_ENTRY]
    made = fake.thing_by_url("https://birds.example.org/wren")
    assert made is not None and made.owner.username == "alice"
    assert made.category == "text" and made.language == "en_GB"
    assert len(fake.requests_to("/rest/v2/things", "POST")) == 3
    # the JSON report carries the v2 things
    assert '"flattrs"' in report.to_json()


def test_rerun_skips_everything_without_creating_or_listing(
    fake: FakeFlattr, client: v2.FlattrClient
) -> None:
    flattr.publish_feed(client, RSS)
    fake.clear_requests()
    again = flattr.publish_feed(client, RSS)
    assert again.registered == () and again.failed == ()
    # as with 0.0.1, an entry whose URL you own is "already registered", repeated or not
    assert [s.reason for s in again.skipped] == [SkipReason.ALREADY_REGISTERED] * 4
    assert again.skipped[0].detail == "you own it"
    assert fake.requests_to("/rest/v2/things", "POST") == []
    # one lookup per distinct URL, and no listing of the user's things
    assert len(fake.requests_to("/rest/v2/things/lookup", "GET")) == 3
    assert fake.requests_to("/rest/v2/user/things") == []


def test_dry_run_knows_what_exists(fake: FakeFlattr, client: v2.FlattrClient) -> None:
    fake.add_thing(fake.user, url="https://birds.example.org/wren", title="The wren in winter")
    report = flattr.publish_feed(client, RSS, dry_run=True)
    assert [r.url for r in report.registered] == [
        "https://birds.example.org/robin",
        "https://birds.example.org/blackbird",
    ]
    assert fake.requests_to("/rest/v2/things", "POST") == []


def test_a_lost_create_answer_is_resolved_with_lookup(
    fake: FakeFlattr, client: v2.FlattrClient
) -> None:
    one = RSS.split("<item>")[0] + "<item>" + RSS.split("<item>")[1] + "</channel></rss>"
    # the requests under /rest/v2/things: the lookup, then the create (dropped once
    # processed), then the lookup that settles it
    fake.inject_fault("/rest/v2/things", "drop_after_processing", every=2)
    report = flattr.publish_feed(client, one)
    fake.clear_faults()
    assert report.failed == ()
    (robin,) = report.registered
    assert any("lost" in w for w in robin.warnings)
    assert isinstance(robin.thing, v2.Thing) and robin.thing.title == "The robin in spring"
    posts = fake.requests_to("/rest/v2/things", "POST")
    assert len(posts) == 1 and posts[0].status is None
    assert len(fake.things) == 1


def test_someone_elses_thing_is_skipped_as_the_server_refuses(
    fake: FakeFlattr, client: v2.FlattrClient
) -> None:
    bob = fake.add_user("bob")
    fake.add_thing(bob, url="https://birds.example.org/robin", title="Bob's robin")
    report = flattr.publish_feed(client, RSS)
    assert report.failed == ()
    robin = report.skipped[0]
    assert robin.url == "https://birds.example.org/robin"
    assert robin.reason is SkipReason.ALREADY_REGISTERED
    assert "owner: bob" in robin.detail
    assert len(report.registered) == 2


def test_a_token_without_the_thing_scope_fails_each_entry(fake: FakeFlattr) -> None:
    token = fake.issue_v2_token(scopes=())
    with v2.FlattrClient(token.token, base_url=fake.base_url) as reader:
        report = flattr.publish_feed(reader, RSS)
    assert report.registered == ()
    assert len(report.failed) == 3
    assert all(isinstance(f.error, flattr.ForbiddenError) for f in report.failed)
    assert fake.things == ()


def test_anything_else_is_refused_before_io() -> None:
    with pytest.raises(flattr.ValidationError) as info:
        flattr.publish_feed(object(), RSS)  # type: ignore[arg-type]
    assert info.value.field == "client"


def test_the_target_looks_wanted_urls_up_in_parallel_and_once(
    fake: FakeFlattr, client: v2.FlattrClient
) -> None:
    from flattr.feeds._targets import V2Target

    bob = fake.add_user("bob")
    fake.add_thing(fake.user, url="https://birds.example.org/robin", title="The robin")
    fake.add_thing(bob, url="https://birds.example.org/wren", title="Bob's wren")
    target = V2Target(client)
    urls = [f"https://birds.example.org/{name}" for name in ("robin", "wren", "owl", "robin")]
    fake.clear_requests()
    owned = target.owned(urls, threads=3)
    assert len(fake.requests_to("/rest/v2/things/lookup")) == 3
    assert list(owned) == ["https://birds.example.org/robin"]  # bob's wren is not yours
    assert "https://birds.example.org/wren" not in owned
    assert owned["https://birds.example.org/robin"].title == "The robin"
    assert len(fake.requests_to("/rest/v2/things/lookup")) == 3  # answered from what was seen
