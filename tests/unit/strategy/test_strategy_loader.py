"""One loader for every way of naming a strategy: built-in, folder, file, module."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.unit.strategy.user_sources import BROKEN, GOOD, marked_line, write
from thunes.strategy import SmaCrossover, get_strategy
from thunes.strategy_files import StrategyLoadError, load_strategy, resolve, scan_folder
from thunes.strategy_files.contract import contract_problems
from thunes.strategy_files.template import template_text, write_template


def test_a_builtin_loads_by_name_whatever_its_case() -> None:
    loaded = resolve(" SMA ")
    assert (loaded.key, loaded.cls, loaded.builtin) == ("sma", SmaCrossover, True)


def test_a_file_and_class_load_under_the_absolute_path_key(tmp_path: Path) -> None:
    path = write(tmp_path / "mine", "breakout", GOOD)
    loaded = resolve(f"{path}:Breakout")
    assert loaded.key == f"{path.resolve()}:Breakout"
    assert loaded.cls.name == "breakout"
    assert dict(get_strategy(loaded.key, window=30).params) == {"window": 30, "stop_loss_pct": 0.02}


def test_a_relative_file_path_gives_the_same_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "mine", "breakout", GOOD)
    monkeypatch.chdir(tmp_path)
    assert resolve("mine/breakout.py:Breakout").key == resolve(f"{path}:Breakout").key


def test_a_file_without_a_class_name_loads_its_only_strategy(tmp_path: Path) -> None:
    path = write(tmp_path, "breakout", GOOD)
    assert resolve(str(path)).key == f"{path.resolve()}:Breakout"


def test_a_module_and_class_load_from_an_importable_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "userpkg_loader_test"
    write(package, "__init__", "")
    write(package, "trend", GOOD)
    monkeypatch.syspath_prepend(str(tmp_path))
    loaded = resolve("userpkg_loader_test.trend:Breakout")
    assert loaded.key == "userpkg_loader_test.trend:Breakout"
    assert load_strategy(loaded.key, {"window": 10}).params["window"] == 10
    monkeypatch.delitem(sys.modules, "userpkg_loader_test.trend")


def test_a_name_loads_from_the_strategies_folder_with_its_file_key(tmp_path: Path) -> None:
    path = write(tmp_path / "strategies", "breakout", GOOD)
    loaded = resolve("breakout", tmp_path / "strategies")
    assert loaded.key == f"{path.resolve()}:Breakout"
    assert loaded.key == resolve(f"{path}:Breakout").key


def test_the_strategies_folder_is_scanned_file_by_file(tmp_path: Path) -> None:
    folder = tmp_path / "strategies"
    write(folder, "breakout", GOOD)
    write(folder, "other", GOOD.replace('"breakout"', '"other"'))
    broken = write(folder, "broken", BROKEN["syntax_error"])
    write(folder, "_helpers", "raise RuntimeError('never imported')\n")
    scan = scan_folder(folder)
    assert sorted(s.cls.name for s in scan.strategies) == ["breakout", "other"]
    assert scan.problems == [f"{broken.resolve()}:3: SyntaxError: invalid syntax"]


def test_a_broken_file_in_the_folder_does_not_hide_a_good_one(tmp_path: Path) -> None:
    folder = tmp_path / "strategies"
    write(folder, "broken", BROKEN["syntax_error"])
    write(folder, "breakout", GOOD)
    assert resolve("breakout", folder).cls.name == "breakout"


def test_an_unknown_name_with_a_broken_file_in_the_folder_names_that_file(tmp_path: Path) -> None:
    broken = write(tmp_path, "broken", BROKEN["syntax_error"])
    with pytest.raises(StrategyLoadError) as caught:
        resolve("breakout", tmp_path)
    assert str(caught.value).startswith(f"{broken.resolve()}:3: SyntaxError")


def test_an_unknown_name_lists_what_is_available(tmp_path: Path) -> None:
    write(tmp_path, "breakout", GOOD)
    with pytest.raises(StrategyLoadError, match="unknown strategy 'macd'; available: rsi, sma;"):
        resolve("macd", tmp_path)


def test_a_folder_strategy_named_like_a_builtin_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "clash", GOOD.replace('"breakout"', '"sma"'))
    scan = scan_folder(tmp_path)
    assert scan.strategies == []
    assert scan.problems[0].startswith(f"{path.resolve()}:")
    assert "built-in" in scan.problems[0]


def test_two_folder_strategies_with_one_name_are_refused_by_name(tmp_path: Path) -> None:
    write(tmp_path, "a_first", GOOD)
    second = write(tmp_path, "b_second", GOOD)
    with pytest.raises(StrategyLoadError) as caught:
        resolve("breakout", tmp_path)
    assert str(caught.value).startswith(f"{second.resolve()}:")
    assert "a_first.py" in str(caught.value)


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_file_is_one_line_naming_the_file_and_line(case: str, tmp_path: Path) -> None:
    source = BROKEN[case]
    path = write(tmp_path, case, source)
    with pytest.raises(StrategyLoadError) as caught:
        resolve(f"{path}:Breakout")
    message = str(caught.value)
    assert message.startswith(f"{path.resolve()}:{marked_line(source)}: ")
    assert "\n" not in message


def test_a_missing_class_names_the_file_and_what_it_defines(tmp_path: Path) -> None:
    path = write(tmp_path, "breakout", GOOD)
    with pytest.raises(StrategyLoadError) as caught:
        resolve(f"{path}:Nope")
    assert str(caught.value) == (
        f"{path.resolve()}:9: no class Nope here (strategies defined here: Breakout)"
    )


def test_a_missing_file_and_a_missing_module_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(StrategyLoadError, match=r"nope\.py: cannot read"):
        resolve(f"{tmp_path}/nope.py:Breakout")
    with pytest.raises(StrategyLoadError, match=r"no\.such_module: no module named 'no'"):
        resolve("no.such_module:Breakout")


def test_an_edited_file_is_loaded_again(tmp_path: Path) -> None:
    path = write(tmp_path, "breakout", GOOD)
    assert resolve(str(path)).cls.defaults["window"] == 20
    path.write_text(GOOD.replace('"window": 20', '"window": 30'), encoding="utf-8")
    assert resolve(str(path)).cls.defaults["window"] == 30


def test_the_builtins_keep_the_contract() -> None:
    for name in ("sma", "rsi"):
        assert contract_problems(resolve(name).cls, "builtin.py") == []


def test_the_template_keeps_the_contract(tmp_path: Path) -> None:
    path = write_template("my_trend", tmp_path)
    assert path.read_text(encoding="utf-8") == template_text("my_trend")
    loaded = resolve("my_trend", tmp_path)
    assert (loaded.cls.__name__, loaded.cls.name) == ("MyTrend", "my_trend")
    assert contract_problems(loaded.cls, path) == []


def test_the_template_is_never_written_over_an_existing_file(tmp_path: Path) -> None:
    path = write(tmp_path, "my_trend", "# mine\n")
    with pytest.raises(StrategyLoadError, match="already exists"):
        write_template("my_trend", tmp_path)
    assert path.read_text(encoding="utf-8") == "# mine\n"


@pytest.mark.parametrize("name", ["sma", "My-Trend", "1trend", ""])
def test_the_template_refuses_a_bad_or_builtin_name(name: str, tmp_path: Path) -> None:
    with pytest.raises(StrategyLoadError):
        write_template(name, tmp_path)
    assert list(tmp_path.iterdir()) == []
