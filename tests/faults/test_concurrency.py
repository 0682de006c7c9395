"""One client shared by many threads: no crossed answers, no errors, connections kept alive."""

from __future__ import annotations

import gc
import threading
import warnings

import pytest

import flattr
from flattr.testing import FakeFlattr, FakeThing, FakeUser

THREADS = 16
CALLS = 100


@pytest.fixture
def crowd(fake: FakeFlattr) -> tuple[list[FakeUser], list[FakeThing]]:
    users = [fake.add_user(f"user{n:02d}", firstname=f"First{n}") for n in range(THREADS)]
    things = [
        fake.add_thing(
            user,
            url=f"http://user{n}.example.org/post",
            title=f"Post of user {n:02d}",
            description=f"Written by user {n}",
        )
        for n, user in enumerate(users)
    ]
    return users, things


def test_16_threads_100_calls_each_on_one_client(
    client: flattr.FlattrClient,
    fake: FakeFlattr,
    crowd: tuple[list[FakeUser], list[FakeThing]],
) -> None:
    users, things = crowd
    errors: list[BaseException] = []
    mismatches: list[str] = []
    calls = [0] * THREADS
    start = threading.Barrier(THREADS)

    def work(n: int) -> None:
        try:
            start.wait()
            for i in range(CALLS):
                # each call asks for something different, so a crossed answer shows
                k = (n + i) % THREADS
                match i % 4:
                    case 0:
                        got = client.user(id=users[k].id)
                        ok = got.username == users[k].username and got.firstname == f"First{k}"
                    case 1:
                        got_thing = client.thing(things[k].id)
                        ok = got_thing.title == f"Post of user {k:02d}"
                    case 2:
                        got = client.user(name=users[k].username)
                        ok = got.id == users[k].id
                    case _:
                        found = client.thing_by_url(things[k].url)
                        ok = found is not None and found.id == things[k].id
                if not ok:
                    mismatches.append(f"thread {n} call {i}")
                calls[n] += 1
        except BaseException as exc:  # collected, asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert mismatches == []
    assert calls == [CALLS] * THREADS
    # nothing was retried, nothing lost: the server saw exactly one request per call
    assert len(fake.requests_to("/rest/")) == THREADS * CALLS
    assert all(r.status == 200 for r in fake.requests_to("/rest/"))
    # one kept-alive connection per thread
    assert fake.connections_opened == THREADS
    # the finished threads' connections are closed without ResourceWarning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        del threads
        gc.collect()


def test_concurrent_registers_and_clicks_happen_exactly_once_each(
    client: flattr.FlattrClient,
    fake: FakeFlattr,
    crowd: tuple[list[FakeUser], list[FakeThing]],
) -> None:
    _, things = crowd
    errors: list[BaseException] = []
    registered: list[str] = []
    start = threading.Barrier(THREADS)

    def work(n: int) -> None:
        try:
            start.wait()
            thing = client.register_thing(
                url=f"http://alice.example.org/{n}",
                title=f"Alice post {n}",
                category="text",
                description="Concurrent registration.",
                language="en_GB",
            )
            registered.append(thing.url)
            client.click(things[n].id)
            assert client.thing(thing.id).url == f"http://alice.example.org/{n}"
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(registered) == sorted(f"http://alice.example.org/{n}" for n in range(THREADS))
    assert len(fake.requests_to("/rest/0.0.1/thing/register", "POST")) == THREADS
    assert len(fake.things) == 2 * THREADS
    assert [t.clicks for t in things] == [1] * THREADS


def test_1000_sequential_calls_use_one_connection(
    client: flattr.FlattrClient, fake: FakeFlattr
) -> None:
    for _ in range(1000):
        assert client.me().username == "alice"
    assert fake.connections_opened == 1
    assert len(fake.requests_to("/rest/0.0.1/user/me")) == 1000


def test_close_reaches_every_threads_connection_and_the_client_still_works(
    client: flattr.FlattrClient, fake: FakeFlattr
) -> None:
    ready = threading.Barrier(5)
    done = threading.Event()

    def work() -> None:
        client.me()
        ready.wait()
        done.wait(10)
        client.me()  # after close(): a new connection, still fine

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    ready.wait()
    assert fake.connections_opened == 4
    client.close()
    done.set()
    for thread in threads:
        thread.join(10)
    assert fake.connections_opened == 8
    assert len(fake.requests_to("/rest/0.0.1/user/me", "GET")) == 8
    assert all(r.status == 200 for r in fake.requests)
