"""publish_feed hands the worker threads a bounded window of registrations, not the whole feed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

import flattr
from flattr.feeds import _publish
from flattr.testing import FakeFlattr

from .kit import REGISTER


def rss(count: int) -> bytes:
    items = "".join(
        f"<item><title>Window entry {n}</title><link>https://window.example.org/{n}</link>"
        f"<description>Entry {n} of the window feed.</description></item>"
        for n in range(count)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>Window</title><link>https://window.example.org/</link>"
        f"<language>en-gb</language>{items}</channel></rss>"
    ).encode()


class CountingExecutor(ThreadPoolExecutor):
    """Counts the registrations handed over and not yet finished."""

    outstanding = 0
    most = 0
    lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        cls = type(self)
        with cls.lock:
            cls.outstanding += 1
            cls.most = max(cls.most, cls.outstanding)
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(cls.finished)
        return future

    @classmethod
    def finished(cls, future: Future[Any]) -> None:
        with cls.lock:
            cls.outstanding -= 1


@pytest.mark.parametrize("workers", [1, 3])
def test_registrations_in_flight_never_exceed_the_window(
    monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    counting = type("Counting", (CountingExecutor,), {"outstanding": 0, "most": 0})
    monkeypatch.setattr(_publish, "ThreadPoolExecutor", counting)
    entries = 40
    progress: list[tuple[int, int, str]] = []
    caller = threading.get_ident()

    def on_progress(update: flattr.PublishProgress) -> None:
        assert threading.get_ident() == caller
        progress.append((update.done, update.total, update.result.url))

    with FakeFlattr(latency=0.01) as fake:
        token = fake.issue_access_token(scopes=("read", "publish"))
        with flattr.FlattrClient(
            fake.consumer.key, fake.consumer.secret, token, base_url=fake.base_url, timeout=10
        ) as client:
            report = flattr.publish_feed(
                client, rss(entries), workers=workers, on_progress=on_progress
            )
        assert len(fake.requests_to(REGISTER, "POST")) == entries
    assert len(report.registered) == entries and report.ok
    window = workers * _publish.WINDOW_PER_WORKER
    # with a 10 ms round trip the mapping loop outruns the threads: the window fills, and holds
    assert counting.most == window
    assert counting.outstanding == 0
    assert [done for done, _, _ in progress] == list(range(1, entries + 1))
    assert {url for _, _, url in progress} == {
        f"https://window.example.org/{n}" for n in range(entries)
    }
