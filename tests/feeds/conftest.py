"""Fixtures for the feed tests: loopback feed servers (plain and TLS)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from .kit import FeedServer


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A plain-HTTP feed server on 127.0.0.1, stopped after the test."""
    with FeedServer() as server:
        yield server


@pytest.fixture
def tls_feed_server(tmp_path: Path) -> Iterator[tuple[FeedServer, str]]:
    """An HTTPS feed server with a throw-away CA, and the path of that CA's PEM file."""
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    with FeedServer(context) as server:
        yield server, str(bundle)
