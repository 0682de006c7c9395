"""``flattr feed publish``: register one thing per entry of an RSS/Atom/podcast feed."""

from __future__ import annotations

import argparse
from typing import Any

from flattr.feeds import (
    MAX_WORKERS,
    Failed,
    PublishProgress,
    Registered,
    Skipped,
    publish_feed,
)

from ._clients import open_any
from ._errors import EXIT_FAILURE, EXIT_USAGE, CLIError, describe
from ._output import clean, print_table
from ._registry import Context, command, group

__all__ = ["run_feed_publish"]


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_WORKERS}")
    return value


def _publish_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "source",
        help="the feed's http(s) URL, a path to a feed file, or - to read it from stdin",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        default=False,
        help="register nothing; show what would be registered",
    )
    parser.add_argument(
        "--workers",
        type=_workers,
        default=4,
        metavar="N",
        help=f"parallel registrations, 1 to {MAX_WORKERS} (default: 4)",
    )
    parser.add_argument(
        "--category",
        default=None,
        help="the category of every thing (default: audio/video for media enclosures, else text)",
    )
    parser.add_argument(
        "--language",
        default=None,
        help="the language for entries whose feed gives none Flattr knows, e.g. en_GB",
    )
    parser.add_argument(
        "--hidden",
        action="store_true",
        default=False,
        help="register every thing hidden from public listings",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        default=False,
        help="no progress bar (it is only ever shown on a terminal, on stderr)",
    )


group("feed", "register the entries of a blog or podcast feed as things", "Commands about feeds.")


def _row(
    result: Registered | Skipped | Failed, profile: str, api: str = "0.0.1"
) -> tuple[str, str, str, str]:
    outcome = result.outcome
    if isinstance(result, Registered):
        if result.thing is None:
            outcome = "would register"
            note = f"{result.draft.category}, {result.draft.language}"
        else:
            note = f"id {result.thing.id}"
    elif isinstance(result, Skipped):
        note = result.reason.value + (f": {result.detail}" if result.detail else "")
    else:
        outcome = "failed (retry)" if result.retryable else "failed (fix)"
        note = describe(result.error, profile=profile, scope="publish", api=api)[0]
    if result.warnings:
        note += " (warnings below)"
    return (outcome, result.url or "-", result.title, note)


@command(
    "feed publish",
    "register one thing per feed entry (needs the publish scope)",
    "Read an RSS 2.0, Atom 1.0 or podcast feed and register every entry that is not "
    "registered yet. Safe to run again: only what is missing is registered. Exit "
    "status 1 when an entry failed.",
    arguments=_publish_arguments,
    scope="publish",
    examples=(
        "flattr feed publish https://blog.example.org/feed.xml --dry-run",
        "flattr feed publish podcast.xml --workers 8 --language en_GB",
        "curl -s https://blog.example.org/feed.xml | flattr feed publish - --json",
    ),
)
def run_feed_publish(ctx: Context) -> int:
    """Run ``flattr feed publish``."""
    args, settings, out, err = ctx.args, ctx.settings, ctx.out, ctx.err
    json_output = bool(getattr(args, "json", False))
    source: str | bytes = args.source
    if args.source == "-":
        source = (
            ctx.stdin.buffer.read() if hasattr(ctx.stdin, "buffer") else ctx.stdin.read().encode()
        )
        if not source.strip():
            raise CLIError("the feed on stdin is empty", EXIT_USAGE)
    show_bar = not args.quiet and err.isatty()
    bar: Any = None
    if show_bar:
        from tqdm import tqdm

        bar = tqdm(total=0, unit="entry", file=err, dynamic_ncols=True, leave=True)
    counts = {"registered": 0, "skipped": 0, "failed": 0}

    def progress(update: PublishProgress) -> None:
        counts[update.result.outcome] += 1
        if bar is not None:
            if bar.total != update.total:
                bar.total = update.total
                bar.refresh()
            bar.set_postfix(counts, refresh=False)
            bar.update(1)

    _, record = settings.load_token()
    try:
        with open_any(settings) as client:
            report = publish_feed(
                client,
                source,
                dry_run=args.dry_run,
                workers=args.workers,
                category=args.category,
                language=args.language,
                hidden=args.hidden,
                on_progress=progress,
            )
    finally:
        if bar is not None:
            bar.close()
    if json_output:
        print(report.to_json(), file=out)
    else:
        title = f" ({report.feed_title})" if report.feed_title else ""
        print(f"{report.source}{title}", file=out)
        for warning in report.warnings:
            print(f"warning: {warning}", file=out)
        if report.total:
            print_table(
                ("OUTCOME", "URL", "TITLE", "NOTE"),
                (_row(r, settings.profile, record.api) for r in report.results),
                out,
            )
        warned = [r for r in report.results if r.warnings]
        if warned:
            # Whole, one per line: a table cell would cut them off.
            print("\nWarnings:", file=out)
            for result in warned:
                for warning in result.warnings:
                    print(f"  {clean(result.url or result.title)}: {clean(warning)}", file=out)
        for heading, failures in (
            ("Failed, a rerun may get past these:", report.retryable),
            ("Failed, to fix before a rerun:", report.permanent),
        ):
            if failures:
                print(f"\n{heading}", file=out)
            for failure in failures:
                message = describe(
                    failure.error,
                    profile=settings.profile,
                    scope="publish",
                    stored_scopes=record.scopes,
                    api=record.api,
                )[0]
                print(f"  {clean(failure.url or failure.title)}: {clean(message)}", file=out)
        print(report.summary(), file=out)
    if report.retryable:
        print(
            f"flattr: {len(report.retryable)} of {report.total} entries failed for reasons a "
            "rerun may get past; run the same command again to retry them (registered "
            "entries are skipped)",
            file=err,
        )
    if report.permanent:
        print(
            f"flattr: {len(report.permanent)} of {report.total} entries cannot be registered "
            "as they are (see above); running again will not change that until the feed, "
            "the options or the login are fixed",
            file=err,
        )
    return 0 if report.ok else EXIT_FAILURE
