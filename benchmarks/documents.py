"""The response bodies the benchmarks use, in the padded layout of the 2010 server.

Every leaf value sits on its own indented line and the thing ``story`` is
CDATA, like ``/work/shared/real-responses-2010`` and FakeFlattr's answers, so
trimming and CDATA handling are part of what is measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n\n'
_PAD = "    "

Node = tuple[str, "str | Sequence[Node]"] | tuple[str, str, bool]


def _render(node: Node, depth: int, out: list[str]) -> None:
    pad = _PAD * depth
    tag = node[0]
    if len(node) == 3:
        out.append(f"{pad}<{tag}>\n{pad}{_PAD}<![CDATA[{node[1]}]]>\n\n{pad}</{tag}>\n")
        return
    body = node[1]
    if isinstance(body, str):
        out.append(f"{pad}<{tag}>\n{pad}{_PAD}{escape(body)}\n{pad}</{tag}>\n")
        return
    out.append(f"{pad}<{tag}>\n")
    for child in body:
        _render(child, depth + 1, out)
    out.append(f"\n{pad}</{tag}>\n")


def _envelope(children: list[Node]) -> bytes:
    out = [_DECLARATION]
    _render(("flattr", [("version", "0.0.1"), *children]), 0, out)
    return "".join(out).encode("utf-8")


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
