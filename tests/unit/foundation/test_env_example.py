from __future__ import annotations

from pathlib import Path

from thunes.config import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[3]


def test_env_example_documents_every_setting() -> None:
    text = (ROOT / ".env.example").read_text()
    names = {line.split("=", 1)[0] for line in text.splitlines() if line.startswith(ENV_PREFIX)}
    expected = {f"{ENV_PREFIX}{field.upper()}" for field in Settings.model_fields}
    assert names == expected
