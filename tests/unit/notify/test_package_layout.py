"""Test doubles live under `tests/`, never in the installed package."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import thunes

PACKAGE = Path(thunes.__file__).parent
_DOUBLE = re.compile(r"^class (Fake|Stub|Dummy)\w*", re.MULTILINE)


def test_the_fake_telegram_api_is_not_in_the_installed_package() -> None:
    assert importlib.util.find_spec("thunes.notify.testing") is None
    assert importlib.util.find_spec("tests.fake_telegram") is not None


def test_no_installed_module_defines_or_imports_a_test_double() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if _DOUBLE.search(text) or re.search(r"^\s*(from|import) tests\b", text, re.MULTILINE):
            offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []
