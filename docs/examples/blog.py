"""A tiny blog engine's Flattr hook: register each post when it is published."""

from __future__ import annotations

from dataclasses import dataclass

import flattr


@dataclass
class Post:
    url: str
    title: str
    summary: str
    tags: tuple[str, ...] = ()


def register_post(client: flattr.FlattrClient, post: Post) -> flattr.Thing:
    """Register ``post`` as a thing, or return the thing already registered for it.

    Safe to call again after any failure: it never registers a post twice.
    """
    fields = dict(
        url=post.url,
        title=post.title,
        category="text",
        description=post.summary,
        language="en_GB",
        tags=post.tags,
    )
    try:
        return client.register_thing(**fields)
    except flattr.UncertainResultError:
        # The request went out but no answer came back: look before repeating it.
        existing = client.thing_by_url(post.url)
        return existing if existing is not None else client.register_thing(**fields)
    except flattr.RegistrationError as exc:
        existing = client.thing_by_url(post.url) if exc.duplicate else None
        if existing is None:
            raise
        return existing
