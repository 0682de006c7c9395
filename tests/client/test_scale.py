"""Accounts of real size: a 50,000-thing list is accepted and read one thing at a time.

The fake runs in a child process (see ``kit``), so that tracemalloc
counts the client alone. Before the list was streamed, the same answer
(about 51 MiB) was refused by the 8 MiB cap, and parsing it whole cost
about 290 MiB; the bounds below are a little over the answer's own bytes.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable, Iterator

import pytest

import flattr
from flattr.testing import FakeFlattr

from .kit import LIST, REGISTER, Account, account_server, thing_url

THINGS = 50_000
MiB = 1024 * 1024
#: The answer is about 1,075 bytes a thing; the client may hold it once, plus a little.
PEAK_BOUND = int(THINGS * 1075 * 1.25) + 4 * MiB


@pytest.fixture(scope="module")
def account() -> Iterator[Account]:
    with account_server(THINGS) as running:
        yield running


def peak_of(action: Callable[[], object]) -> tuple[object, int]:
    """What ``action`` returned and the peak memory it allocated (tracemalloc)."""
    tracemalloc.start()
    try:
        result = action()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_iter_things_streams_a_50000_thing_answer(account: Account) -> None:
    with account.client() as client:
        client.me()  # the connection is open before measuring

        def read() -> tuple[int, set[str]]:
            count = 0
            sample: set[str] = set()
            for thing in client.iter_things():
                count += 1
                if thing.int_id is not None and count % 10_000 == 1:
                    sample.add(thing.url)
            return count, sample

        (count, sample), peak = peak_of(read)
    assert count == THINGS
    assert sample == {thing_url(n) for n in range(0, THINGS, 10_000)}
    assert peak < PEAK_BOUND, f"peak {peak / MiB:.1f} MiB"


def rss(urls: list[str]) -> bytes:
    items = "".join(
        f"<item><title>Post {n} again</title><link>{url}</link>"
        f"<description>Entry number {n} of the feed.</description></item>"
        for n, url in enumerate(urls)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Big blog</title><link>https://big.example.org/</link>"
        f"<language>en-gb</language>{items}</channel></rss>"
    ).encode()


def test_publish_rerun_against_a_50000_thing_account(account: Account) -> None:
    owned = [thing_url(n) for n in range(0, THINGS, 1_000)]  # 50 of the account's
    feed = rss(owned)
    lists_before = account.count(LIST)
    with account.client() as client:
        client.me()
        report, peak = peak_of(lambda: flattr.publish_feed(client, feed, workers=4))
    assert isinstance(report, flattr.PublishReport)
    assert report.registered == () and report.failed == ()
    assert [s.url for s in report.skipped] == owned
    assert all(s.detail == "you own it" and s.thing is not None for s in report.skipped)
    assert {s.thing.url for s in report.skipped if s.thing} == set(owned)
    assert account.count(LIST) == lists_before + 1
    assert account.count(REGISTER) == 0
    assert peak < PEAK_BOUND, f"peak {peak / MiB:.1f} MiB"


# -- the list's own cap, in process -----------------------------------------------------


def seed(fake: FakeFlattr, count: int) -> None:
    for n in range(count):
        fake.add_thing(fake.user, url=f"https://cap.example.org/{n}", title=f"Capped post {n}")


def test_list_answers_have_their_own_cap(
    fake: FakeFlattr, make_client: Callable[..., flattr.FlattrClient]
) -> None:
    seed(fake, 100)  # about 100 KB of list
    client = make_client(max_response_bytes=16 * 1024)
    assert client.me().username == fake.user.username
    assert len(client.things()) == 100  # on the same kept-alive connection as me()
    assert fake.connections_opened == 1
    # the small cap is back for everything else, on that connection too
    with pytest.raises(flattr.ResponseTooLargeError):
        client.search("Capped post")
    assert fake.requests_to(LIST)[0].header("Accept-Encoding") == "identity"


def test_max_list_bytes_refuses_a_longer_list(
    fake: FakeFlattr, make_client: Callable[..., flattr.FlattrClient]
) -> None:
    seed(fake, 30)
    client = make_client(max_list_bytes=8 * 1024)
    with pytest.raises(flattr.ResponseTooLargeError, match=r"8192 bytes \(max_list_bytes\)"):
        client.iter_things()
    with pytest.raises(flattr.ResponseTooLargeError, match=r"\(max_list_bytes\)"):
        client.things()
    assert client.me().username == fake.user.username


def test_a_single_answer_names_max_response_bytes(
    fake: FakeFlattr, make_client: Callable[..., flattr.FlattrClient]
) -> None:
    client = make_client(max_response_bytes=100)
    with pytest.raises(flattr.ResponseTooLargeError, match=r"100 bytes \(max_response_bytes\)"):
        client.me()


@pytest.mark.parametrize("value", [0, -1, True, 1.5, "1000"])
def test_max_list_bytes_must_be_a_positive_whole_number(fake: FakeFlattr, value: object) -> None:
    with pytest.raises(flattr.ValidationError) as caught:
        flattr.FlattrClient("key", "secret", ("token", "secret"), max_list_bytes=value)  # type: ignore[arg-type]
    assert caught.value.field == "max_list_bytes"


def test_iter_things_fetches_before_it_returns(
    fake: FakeFlattr, client: flattr.FlattrClient
) -> None:
    seed(fake, 3)
    with pytest.raises(flattr.NotFoundError):
        client.iter_things(987_654)  # raises at the call, not at the first next()
    things = client.iter_things()
    assert [r.status for r in fake.requests_to(LIST)] == [404, 200]  # sent already
    assert [t.url for t in things] == [f"https://cap.example.org/{n}" for n in range(3)]
    assert client.things() == tuple(client.iter_things())
