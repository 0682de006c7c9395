#!/usr/bin/env python
"""Profile ``FlattrClient.me()`` (or ``parse_things``) with pyinstrument.

::

    python benchmarks/profile_me.py                 # 3000 me() calls against the loopback server
    python benchmarks/profile_me.py --parse         # parse_things over a 1000-thing list
    python benchmarks/profile_me.py --html out.html # the interactive report instead of text

The profile is what the optimisations in ``flattr/_http/`` and
``flattr/_xml.py`` were chosen from; see ``docs/performance.rst``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from documents import things_document, user_document  # noqa: E402
from run import CONSUMER_KEY, CONSUMER_SECRET, TOKEN_KEY, TOKEN_SECRET, LoopbackServer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--parse", action="store_true", help="profile parse_things instead")
    parser.add_argument("--things", type=int, default=1000)
    parser.add_argument("--html", metavar="FILE", help="write pyinstrument's HTML report")
    parser.add_argument("--all", action="store_true", help="show library frames too")
    args = parser.parse_args()
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("pyinstrument is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 2

    import flattr
    from flattr import _xml

    profiler = Profiler(interval=0.0002)
    if args.parse:
        body = things_document(args.things)
        _xml.parse_things(body)
        profiler.start()
        for _ in range(max(1, args.calls // 300)):
            _xml.parse_things(body)
        profiler.stop()
    else:
        with LoopbackServer(user_document()) as server:
            client = flattr.FlattrClient(
                CONSUMER_KEY, CONSUMER_SECRET, (TOKEN_KEY, TOKEN_SECRET), base_url=server.base_url
            )
            with client:
                client.me()
                profiler.start()
                for _ in range(args.calls):
                    client.me()
                profiler.stop()
    if args.html:
        Path(args.html).write_text(profiler.output_html(), encoding="utf-8")
        print(f"wrote {args.html}")
    else:
        print(profiler.output_text(unicode=True, color=False, show_all=args.all))
    return 0


if __name__ == "__main__":
    sys.exit(main())
