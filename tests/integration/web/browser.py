"""Headless Debian chromium through /usr/bin/chromedriver, and the steps an operator takes.

The flags keep Chromium off the network (no background requests, component updates or sync on
a closed network) and give it a fresh profile. A missing chromium is a failure, not a skip: the
browser test is part of `make test`, whose `browser` target installs it.
"""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1280,1800",
)
WAIT_S = 30.0
BACKGROUND = (255, 255, 255)


def start_chromium(profile: Path) -> webdriver.Chrome:
    chromium = shutil.which("chromium")
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if chromium is None or not Path(driver).exists():
        pytest.fail("the browser test needs Debian's chromium and chromedriver: run `make "
                    "browser` (apt-get install chromium chromium-driver)")
    options = Options()
    options.binary_location = chromium
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


@dataclass
class Operator:
    """What an operator does in the dashboard; each method blocks (run it off the loop)."""

    driver: webdriver.Chrome
    url: str

    def wait(self) -> WebDriverWait[webdriver.Chrome]:
        return WebDriverWait(self.driver, WAIT_S)

    def text_of(self, css: str) -> str:
        return str(self.wait().until(ec.visibility_of_element_located((By.CSS_SELECTOR, css))).text)

    def log_in(self, token: str) -> str:
        """Open the overview, get sent to the login page, log in; returns the mode shown."""
        self.driver.get(self.url + "/")
        self.wait().until(ec.url_contains("/login"))
        self.driver.find_element(By.ID, "token").send_keys(token)
        self.driver.find_element(By.ID, "login").click()
        self.wait().until(ec.presence_of_element_located((By.ID, "today-pnl")))
        return self.text_of("#mode")

    def positions_text(self) -> str:
        self.driver.get(self.url + "/")
        return self.text_of("#positions")

    def force_exit(self, symbol: str) -> tuple[str, str]:
        """Ask to force-exit, read the confirmation, confirm; returns (question, result)."""
        self.driver.find_element(By.ID, f"force-exit-{symbol}").click()
        question = self.text_of("#confirm-what")
        self.driver.find_element(By.ID, "confirm").click()
        self.wait().until(ec.url_matches(r"/$"))
        return question, self.text_of(".flash")

    def no_open_positions(self) -> str:
        return self.text_of("#positions-empty")

    def trades_text(self) -> str:
        self.driver.get(self.url + "/trades")
        return self.text_of("#trades")

    def overview_screenshot(self, path: Path) -> tuple[Image.Image, str]:
        """Save a screenshot of the overview; returns the chart's crop and its point count."""
        self.driver.get(self.url + "/")
        chart = self.wait().until(ec.visibility_of_element_located((By.ID, "equity-chart")))
        self.driver.save_screenshot(str(path))
        crop = Image.open(io.BytesIO(chart.screenshot_as_png)).convert("RGB")
        return crop, str(chart.get_attribute("data-points") or "")


def _rgb(image: Image.Image) -> list[tuple[int, int, int]]:
    raw = image.convert("RGB").tobytes()
    return [(raw[i], raw[i + 1], raw[i + 2]) for i in range(0, len(raw), 3)]


def drawn_pixels(image: Image.Image) -> int:
    """Pixels far from the white background (the curve and the zero line)."""
    return sum(
        1 for pixel in _rgb(image)
        if sum(abs(c - b) for c, b in zip(pixel, BACKGROUND, strict=True)) > 60
    )


def curve_pixels(image: Image.Image) -> int:
    """Pixels of the curve's blue (#2b6cb0), allowing for anti-aliasing."""
    return sum(1 for r, g, b in _rgb(image) if b > 140 and b - r > 80 and abs(g - 108) < 50)
