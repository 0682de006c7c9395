"""Every request leaves one DEBUG record: method, path, status or failure, and duration."""

from __future__ import annotations

import logging
import re

import pytest

import flattr
from flattr.testing import FakeFlattr

LOGGER = "flattr._transport"


def test_one_debug_record_per_request(
    fake: FakeFlattr, client: flattr.FlattrClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        client.me()
        with pytest.raises(flattr.NotFoundError):
            client.thing("0" * 32)
    lines = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert len(lines) == 2
    assert re.fullmatch(r"GET /rest/0\.0\.1/user/me -> 200 \(\d+ bytes, [\d.]+ ms\)", lines[0])
    assert lines[1].startswith("GET /rest/0.0.1/thing/get/id/") and " -> 404 " in lines[1]


def test_a_failed_attempt_is_logged_too(caplog: pytest.LogCaptureFixture) -> None:
    with FakeFlattr() as fake:
        base_url = fake.base_url
    api = flattr.FlattrClient(
        "consumer-key", "consumer-secret", ("tk", "ts"), base_url=base_url, retries=0
    )
    with caplog.at_level(logging.DEBUG, logger=LOGGER), pytest.raises(flattr.TransportError):
        api.me()
    [line] = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert re.fullmatch(r"GET /rest/0\.0\.1/user/me -> failed \(\w+\) after [\d.]+ ms", line)
    assert "consumer-secret" not in line and "ts" not in line.split()
