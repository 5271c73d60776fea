"""`.env` is as strict as the environment, and every documented form of a setting parses."""

from __future__ import annotations

from pathlib import Path

import pytest

from thunes.cli import main
from thunes.config import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[3]


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_an_unknown_setting_in_dot_env_is_refused_like_one_in_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".env").write_text("THUNES_QUOTE_AMMOUNT=5\nOTHER_TOOL_SETTING=1\n")
    assert main(["doctor", "--offline"]) == 2
    assert one_line(capsys) == "THUNES_QUOTE_AMMOUNT: unknown setting in .env"


def test_an_unknown_setting_in_a_named_env_file_is_refused_by_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env_file = tmp_path / "thunes.env"
    env_file.write_text("THUNES_MODE=sim\nTHUNES_SYMBOLZ=BTCUSDT\n")
    assert main(["run", "--env-file", str(env_file), "--duration", "1"]) == 2
    assert one_line(capsys) == f"THUNES_SYMBOLZ: unknown setting in {env_file}"
    assert not (tmp_path / "state").exists()


@pytest.mark.parametrize("command", [["doctor", "--offline"], ["run"], ["show-config"]])
def test_a_named_env_file_that_does_not_exist_is_exit_2_with_one_line(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "typo.env"
    assert main([*command, "--env-file", str(missing)]) == 2
    assert one_line(capsys) == f"--env-file {missing}: no such file"


def test_without_the_option_a_missing_dot_env_is_fine() -> None:
    assert load_settings().symbols == ["BTCUSDT"]


def test_sim_data_in_the_comma_form_env_example_documents_parses(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("THUNES_SIM_DATA=data/BTCUSDT-5m.csv, data/ETHUSDT-5m.csv\n")
    settings = load_settings()
    assert settings.sim_data == [Path("data/BTCUSDT-5m.csv"), Path("data/ETHUSDT-5m.csv")]


@pytest.mark.parametrize(
    ("variable", "comma", "expected"),
    [
        ("THUNES_SYMBOLS", "BTCUSDT,ETHUSDT", ["BTCUSDT", "ETHUSDT"]),
        ("THUNES_ALERTS_SILENCED", "fill, breaker", ["fill", "breaker"]),
        (
            "THUNES_SIM_DATA",
            "a/BTCUSDT.csv,b/ETHUSDT.csv",
            [Path("a/BTCUSDT.csv"), Path("b/ETHUSDT.csv")],
        ),
        ("THUNES_RANK_DENY", "DOGEUSDT,SHIBUSDT", ["DOGEUSDT", "SHIBUSDT"]),
        ("THUNES_RANK_TIMEFRAMES", "1h,4h", ["1h", "4h"]),
    ],
)
def test_every_list_setting_accepts_commas_and_json_lists(
    variable: str, comma: str, expected: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    field = variable.removeprefix("THUNES_").lower()
    monkeypatch.setenv(variable, comma)
    assert getattr(load_settings(), field) == expected
    json_list = "[" + ", ".join(f'"{item}"' for item in comma.split(",")) + "]"
    monkeypatch.setenv(variable, json_list)
    assert getattr(load_settings(), field) == expected


def test_every_list_setting_of_the_model_is_covered() -> None:
    from thunes.config import Settings

    lists = {name for name, info in Settings.model_fields.items() if "list" in str(info.annotation)}
    assert lists == {"symbols", "alerts_silenced", "sim_data", "rank_deny", "rank_timeframes"}


@pytest.mark.parametrize("value", ['["a.csv",', "[1, 2"])
def test_a_malformed_list_is_one_line_not_a_traceback(
    value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".env").write_text(f"THUNES_SIM_DATA={value}\n")
    assert main(["doctor", "--offline"]) == 2
    assert one_line(capsys).startswith("THUNES_SIM_DATA: ")


def test_the_shipped_env_example_loads_as_it_is(tmp_path: Path) -> None:
    example = tmp_path / "copied.env"
    example.write_text((ROOT / ".env.example").read_text())
    settings = load_settings(example, require_env_file=True)
    assert settings.sim_data == [] and settings.alerts_silenced == []


@pytest.mark.parametrize("value", ["yes", "1", "on", "True", "y"])
def test_live_confirm_accepts_exactly_true(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = {"api_key": "k", "api_secret": "s"}
    monkeypatch.setenv("THUNES_LIVE_CONFIRM", value)
    with pytest.raises(SettingsError) as refused:
        load_settings(mode="live", **keys)
    assert [line.split(":")[0] for line in refused.value.problems] == ["THUNES_LIVE_CONFIRM"]
    monkeypatch.setenv("THUNES_LIVE_CONFIRM", "true")
    assert load_settings(mode="live", **keys).live_confirm is True
    monkeypatch.setenv("THUNES_LIVE_CONFIRM", "false")
    assert load_settings(mode="sim").live_confirm is False


def test_an_unreadable_sim_start_is_a_setting_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THUNES_SIM_START", "yesterday")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert refused.value.problems[0].startswith("THUNES_SIM_START: ")
