"""The response bodies the benchmarks use, in the padded layout of the 2010 server.

Every leaf value sits on its own indented line and the thing ``story`` is
CDATA, as in the real captures (``tests/data/real-2010``) and FakeFlattr's
answers (this module uses FakeFlattr's own serializer), so
trimming and CDATA handling are part of what is measured.
"""

from __future__ import annotations

import json

# FakeFlattr's serializer writes the 2010 layout; the benchmarks reuse it.
from flattr.testing._xmlout import Node
from flattr.testing._xmlout import envelope as _envelope


def user_document() -> bytes:
    """A ``user/me`` answer for a token with the ``extendedread`` scope."""
    return _envelope(
        [
            (
                "user",
                [
                    ("id", "2"),
                    ("username", "alice"),
                    ("firstname", "Alice"),
                    ("lastname", "Liddell"),
                    ("city", "Malmö"),
                    ("country", "Sweden"),
                    (
                        "gravatar",
                        "https://secure.gravatar.com/avatar/0bc83cb571cd1c50ba6f3e8a78ef1346",
                    ),
                    ("description", "Writes about rabbits & clocks."),
                    ("thingcount", "12"),
                    ("language", "sv_SE"),
                    ("email", "alice@example.org"),
                ],
            )
        ]
    )


def things_document(count: int) -> bytes:
    """A ``thing/listbyuser`` answer holding ``count`` things, each with two tags."""
    things: list[Node] = []
    for n in range(count):
        fields: list[Node] = [
            ("id", f"{n:032x}"),
            ("int_id", str(1000 + n)),
            ("created", str(1284566106 + n)),
            ("language", "en_GB"),
            ("url", f"https://blog.example.org/{n}/a-post-about-things"),
            ("title", f"Post number {n} & friends"),
            ("story", f"The story of post {n}: <b>bold</b> words, kept as CDATA.", True),
            ("clicks", str(n % 17)),
            ("user", [("id", "2"), ("username", "alice")]),
            ("tags", [("tag", "python"), ("tag", f"tag{n % 10}")]),
            ("category", [("id", "text"), ("name", "Written text")]),
            ("status", "owner"),
        ]
        things.append(("thing", fields))
    return _envelope(things)


def v2_user_document() -> bytes:
    """An API v2 ``GET /user`` answer with ``extendedread``, shaped like the official example.

    Written as PHP's ``json_encode`` wrote it (``\\/`` and ``\\uXXXX`` escapes), as the
    captured v2 answers are.
    """
    user = {
        "type": "user",
        "resource": "https://api.flattr.com/rest/v2/users/alice",
        "link": "https://flattr.com/profile/alice",
        "username": "alice",
        "firstname": "Alice",
        "lastname": "Liddell",
        "avatar": "https://secure.gravatar.com/avatar/0123456789abcdef0123456789abcdef?s=48",
        "about": "Writes about rabbits, clocks and tea parties.",
        "city": "Malmö",
        "country": "Sweden",
        "url": "https://alice.example.org/",
        "email": "alice@example.org",
        "registered_at": 1270166816,
    }
    return json.dumps(user).replace("/", "\\/").encode("ascii")
