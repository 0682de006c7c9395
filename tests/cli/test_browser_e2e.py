"""End to end: ``flattr login`` as a real process, consent given in a real headless Chromium.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs
them) and selenium; skipped cleanly without them.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flattr.testing import FakeFlattr

from .kit import AUTHORIZE_URL, PYTHON, reap, subprocess_env

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = "/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None or CHROMEDRIVER is None,
        reason="needs Debian's chromium and chromium-driver (apt-get install chromium "
        "chromium-driver)",
    ),
]


@pytest.fixture
def chromium() -> Iterator[Any]:
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="flattr-chromium-")
    options = webdriver.ChromeOptions()
    for flag in HEADLESS_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.binary_location = CHROMIUM
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_login_in_chromium_then_whoami(fake: FakeFlattr, chromium: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    config_dir = tmp_path / "config"
    env = subprocess_env(
        config_dir,
        FLATTR_BASE_URL=fake.base_url,
        FLATTR_CONSUMER_KEY=fake.consumer.key,
        FLATTR_CONSUMER_SECRET=fake.consumer.secret,
    )
    login = subprocess.Popen(
        [PYTHON, "-m", "flattr", "login", "--no-browser", "--scope", "read,publish"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert login.stderr is not None
        url = None
        for line in login.stderr:
            match = AUTHORIZE_URL.search(line)
            if match:
                url = match.group(1)
                break
        assert url, "flattr login printed no authorize URL"

        chromium.get(url)
        assert chromium.find_element(By.ID, "username").text == "alice"
        chromium.find_element(By.ID, "allow").click()
        WebDriverWait(chromium, 20).until(
            expected_conditions.text_to_be_present_in_element((By.ID, "result"), "Logged in")
        )
        assert chromium.current_url.startswith("http://127.0.0.1:")
        assert "/callback?" in chromium.current_url

        out, err = login.communicate(timeout=30)
    finally:
        reap(login)
    assert login.returncode == 0, err
    assert "Logged in as alice" in out

    token_file = config_dir / "tokens" / "default.json"
    assert token_file.is_file()
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert fake.consumer.secret not in token_file.read_text()

    whoami = subprocess.run(
        [PYTHON, "-m", "flattr", "whoami"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert whoami.returncode == 0, whoami.stderr
    assert "username: alice" in whoami.stdout
    assert "scopes:   read,publish" in whoami.stdout
