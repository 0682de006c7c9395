"""Tests for blog.register_post, against the fake Flattr server (fixture ``fake_flattr``)."""

from __future__ import annotations

import pytest
from blog import Post, register_post

import flattr
from flattr.testing import FakeFlattr

POST = Post(
    url="https://blog.example.org/2010/10/hello",
    title="Hello, Flattr",
    summary="The first post of this blog.",
    tags=("hello",),
)


@pytest.fixture
def client(fake_flattr: FakeFlattr) -> flattr.FlattrClient:
    token = fake_flattr.issue_access_token(scopes=("read", "publish"))
    return flattr.FlattrClient(
        fake_flattr.consumer.key, fake_flattr.consumer.secret, token, base_url=fake_flattr.base_url
    )


def test_a_published_post_becomes_a_thing(fake_flattr: FakeFlattr, client: flattr.FlattrClient):
    thing = register_post(client, POST)

    stored = fake_flattr.thing_by_url(POST.url)
    assert stored is not None
    assert (stored.id, stored.title, stored.owner.username) == (thing.id, POST.title, "alice")
    assert stored.tags == ("hello",)


def test_publishing_twice_keeps_one_thing(fake_flattr: FakeFlattr, client: flattr.FlattrClient):
    first = register_post(client, POST)
    again = register_post(client, POST)

    assert again.id == first.id
    assert len(fake_flattr.things) == 1


def test_a_dropped_answer_is_not_registered_twice(
    fake_flattr: FakeFlattr, client: flattr.FlattrClient
):
    # The server registers the thing, then the connection drops before the answer.
    fake_flattr.inject_fault("/rest/0.0.1/thing/register", "drop_after_processing")

    thing = register_post(client, POST)

    assert thing.url == POST.url
    assert len(fake_flattr.requests_to("/rest/0.0.1/thing/register", "POST")) == 1
    assert len(fake_flattr.things) == 1
