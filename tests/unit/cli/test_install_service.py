"""The systemd path: the installed settings file and the unit agree on absolute state and log
directories, so the operator's commands reach the daemon's real state.

The install script always runs here with `--root` (staged into a temporary directory): it needs
neither root nor systemd, and touches nothing outside that directory.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from thunes.config import load_settings
from thunes.store import db_path

REPO = Path(__file__).resolve().parents[3]
UNIT = "etc/systemd/system/thunes.service"
ENV_FILE = "etc/thunes/thunes.env"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A small checkout with the real script, unit and settings template, plus an operator's .env."""
    src = tmp_path / "checkout"
    (src / "scripts").mkdir(parents=True)
    (src / "src" / "thunes").mkdir(parents=True)
    shutil.copy2(REPO / "scripts" / "install-service.sh", src / "scripts")
    for name in ("thunes.service", ".env.example"):
        shutil.copy2(REPO / name, src / name)
    (src / "src" / "thunes" / "__init__.py").write_text("")
    example = (REPO / ".env.example").read_text()
    (src / ".env").write_text(example.replace("THUNES_API_KEY=", "THUNES_API_KEY=operator-key"))
    return src


def install(checkout: Path, root: Path, *options: str) -> subprocess.CompletedProcess[str]:
    script = checkout / "scripts" / "install-service.sh"
    assert "--root)" in script.read_text(), "a script without --root would install into /"
    return subprocess.run(
        ["bash", str(script), "--root", str(root), *options],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def env_file_values(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as systemd's EnvironmentFile= reads them (comments and blanks skipped)."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";")) and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip("\"'")
    return values


def unit_settings(unit: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def effective_environment(unit: Path, root: Path) -> dict[str, str]:
    """What the unit gives the daemon: Environment=, then EnvironmentFile= on top (systemd's rule:
    a variable from an environment file overrides the same one from Environment=)."""
    settings = unit_settings(unit)
    env: dict[str, str] = {}
    for value in settings.get("Environment", []):
        for assignment in shlex.split(value):
            key, _, val = assignment.partition("=")
            env[key] = val
    for value in settings.get("EnvironmentFile", []):
        path = root / value.lstrip("-").lstrip("/")
        if path.is_file():
            env |= env_file_values(path)
        else:
            assert value.startswith("-"), f"required environment file missing: {value}"
    return env


def clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("THUNES_")}


def test_installed_unit_gives_the_daemon_its_absolute_state_and_log_dirs(
    checkout: Path, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    done = install(checkout, root)
    assert done.returncode == 0, done.stderr
    unit = unit_settings(root / UNIT)
    env = effective_environment(root / UNIT, root)
    assert env["THUNES_STATE_DIR"] == "/var/lib/" + unit["StateDirectory"][0]
    assert env["THUNES_LOG_DIR"] == "/var/log/" + unit["LogsDirectory"][0]
    written = env_file_values(root / ENV_FILE)
    assert written["THUNES_STATE_DIR"] == env["THUNES_STATE_DIR"]
    assert written["THUNES_LOG_DIR"] == env["THUNES_LOG_DIR"]
    assert written["THUNES_API_KEY"] == "operator-key"  # seeded from the checkout's .env
    assert oct((root / ENV_FILE).stat().st_mode & 0o777) == "0o640"
    assert (root / "opt/thunes/src/thunes/__init__.py").is_file()
    assert not (root / "opt/thunes/.env").exists()  # the secrets stay in /etc/thunes only


def test_operator_commands_with_the_installed_settings_reach_the_daemons_database(
    checkout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "root"
    assert install(checkout, root).returncode == 0
    unit = unit_settings(root / UNIT)
    for name in [n for n in os.environ if n.startswith("THUNES_")]:
        monkeypatch.delenv(name)

    # The daemon: the unit's environment, in its working directory.
    with monkeypatch.context() as daemon:
        for key, value in effective_environment(root / UNIT, root).items():
            daemon.setenv(key, value)
        daemon.chdir(root / unit["WorkingDirectory"][0].lstrip("/"))
        daemon_db = db_path(load_settings().state_dir)  # and a .env there, if any

    # The operator, as README says: anywhere, with the installed settings file.
    monkeypatch.chdir(tmp_path)
    cli_db = db_path(load_settings(root / ENV_FILE).state_dir)
    assert cli_db == daemon_db and cli_db.is_absolute()

    if daemon_db.exists():
        pytest.skip(f"{daemon_db} exists on this machine; not touching it")
    done = subprocess.run(
        [sys.executable, "-m", "thunes", "kill", "--env-file", str(root / ENV_FILE)],
        cwd=tmp_path,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert f"no THUNES state in {daemon_db.parent}:" in done.stderr
    assert not daemon_db.exists()


def test_reinstall_pins_relative_dirs_in_an_existing_env_file(
    checkout: Path, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    (root / "etc/thunes").mkdir(parents=True)
    (root / ENV_FILE).write_text(
        "THUNES_MODE=testnet\nTHUNES_STATE_DIR=state\nTHUNES_TELEGRAM_CHAT_ID=42\n"
    )
    (root / ENV_FILE).chmod(0o600)
    done = install(checkout, root)
    assert done.returncode == 0, done.stderr
    assert "THUNES_STATE_DIR was 'state', now /var/lib/thunes" in done.stdout
    assert "THUNES_LOG_DIR was 'unset', now /var/log/thunes" in done.stdout
    values = env_file_values(root / ENV_FILE)
    assert values == {
        "THUNES_MODE": "testnet",
        "THUNES_STATE_DIR": "/var/lib/thunes",
        "THUNES_TELEGRAM_CHAT_ID": "42",
        "THUNES_LOG_DIR": "/var/log/thunes",
    }
    assert oct((root / ENV_FILE).stat().st_mode & 0o777) == "0o600"
    again = install(checkout, root)
    assert again.returncode == 0 and "was" not in again.stdout
    assert (root / ENV_FILE).read_text().count("# Under systemd") == 2


def test_install_script_refuses_bad_options_with_exit_2(checkout: Path, tmp_path: Path) -> None:
    for options in (["--bogus"], ["--prefix", "relative/dir"], ["--env-file", "/nonexistent"]):
        done = install(checkout, tmp_path / "root", *options)
        assert done.returncode == 2, options
        assert len(done.stderr.splitlines()) == 1, done.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_installed_unit_passes_systemd_analyze_verify(checkout: Path, tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    python = prefix / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)
    root = tmp_path / "root"
    assert install(checkout, root, "--prefix", str(prefix)).returncode == 0
    done = subprocess.run(
        ["systemd-analyze", "verify", str(root / UNIT)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
