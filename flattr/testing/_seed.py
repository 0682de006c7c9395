"""The demo data: a few users and things, so a sandbox or a tour has something to show."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._fake import FakeFlattr

__all__ = ["seed_demo"]


def seed_demo(fake: FakeFlattr) -> None:
    """Add bob and carol and five things (one hidden) beside ``fake``'s own user.

    :param fake: the server to seed; its :attr:`~FakeFlattr.user` owns two things.
    """
    bob = fake.add_user(
        "bob",
        firstname="Bob",
        lastname="Builder",
        city="Malmö",
        country="Sweden",
        description="Builds & breaks <things>.",
    )
    carol = fake.add_user(
        "carol",
        firstname="Carol",
        lastname="Jones",
        city="Cork",
        country="Ireland",
        language="ga_IE",
    )
    fake.add_thing(
        fake.user,
        url="https://alice.example.org/birds/robin",
        title="The robin in spring",
        description="Notes on robins nesting in the garden.",
        tags=("birds", "spring"),
    )
    fake.add_thing(
        fake.user,
        url="https://alice.example.org/drafts/owls",
        title="Owls (draft)",
        description="Not ready yet.",
        hidden=True,
    )
    fake.add_thing(
        bob,
        url="https://bob.example.org/tools",
        title="Tools I love",
        description="Hammers, saws & a 3D printer ~ with photos.",
        category="images",
        tags=("tools", "diy"),
        clicks=3,
    )
    fake.add_thing(
        carol,
        url="https://carol.example.org/podcast/1",
        title="Podcast episode 1",
        description="An hour of talk about music from Cork.",
        category="audio",
        language="ga_IE",
        tags=("music", "podcast"),
        clicks=12,
    )
    fake.add_thing(
        carol,
        url="https://carol.example.org/app",
        title="Tiny note app",
        description="A small free note-taking app.",
        category="software",
        tags=("app",),
    )
