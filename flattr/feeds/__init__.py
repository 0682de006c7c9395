"""Publish a feed: one Flattr thing per blog post or podcast episode.

>>> import flattr
>>> from flattr.testing import FakeFlattr
>>> rss = '''<rss version="2.0"><channel><title>Bird notes</title>
...   <link>https://birds.example.org/</link><language>en-us</language>
...   <item><title>The robin in spring</title><link>/robin</link>
...     <description>&lt;p&gt;Robins &amp;amp; their nests.&lt;/p&gt;</description></item>
... </channel></rss>'''
>>> with FakeFlattr() as fake:
...     token = fake.issue_access_token(scopes=("read", "publish"))
...     with flattr.FlattrClient(fake.consumer.key, fake.consumer.secret, token,
...                              base_url=fake.base_url) as client:
...         report = flattr.publish_feed(client, rss)
...         again = flattr.publish_feed(client, rss)
>>> report
PublishReport(source='feed text', registered=1, skipped=0, failed=0)
>>> report.registered[0].thing.description
'Robins & their nests.'
>>> again.skipped[0].reason
<SkipReason.ALREADY_REGISTERED: 'already registered'>

:func:`publish_feed` reads RSS 2.0, Atom 1.0 and podcast feeds (iTunes tags)
with :mod:`feedparser`, maps each entry to a thing (see :mod:`flattr.feeds._mapping`
for the rules), skips what the user already owns and registers the rest in
parallel, handing the threads a bounded window of registrations at a time
(:data:`~flattr.feeds.WINDOW_PER_WORKER`). It is safe to run again: after a
failure, a second run registers only what is missing. Every entry ends up in exactly one list of the
:class:`PublishReport`: :attr:`~PublishReport.registered`,
:attr:`~PublishReport.skipped` or :attr:`~PublishReport.failed`.
"""

from flattr.feeds._mapping import ThingDraft
from flattr.feeds._publish import (
    DEFAULT_FETCH_TIMEOUT,
    DEFAULT_MAX_FEED_BYTES,
    MAX_WORKERS,
    WINDOW_PER_WORKER,
    FeedSource,
    publish_feed,
)
from flattr.feeds._report import (
    EntryResult,
    Failed,
    PublishProgress,
    PublishReport,
    Registered,
    Skipped,
    SkipReason,
)

__all__ = [
    "DEFAULT_FETCH_TIMEOUT",
    "DEFAULT_MAX_FEED_BYTES",
    "EntryResult",
    "Failed",
    "FeedSource",
    "MAX_WORKERS",
    "PublishProgress",
    "PublishReport",
    "Registered",
    "SkipReason",
    "Skipped",
    "ThingDraft",
    "WINDOW_PER_WORKER",
    "publish_feed",
]
