"""One way to name a strategy, for the daemon and every command that takes `--strategy`.

    sma                           a built-in, by name
    mytrend                       a user strategy, by its `name`, from the strategies folder
    path/to/file.py:ClassName     a class in a file (`path/to/file.py` alone: its only strategy)
    package.module:ClassName      a class in an importable module

Each resolves to a *key* that names the class unambiguously wherever it is used: the built-in's
name, `module:Class`, or the file's absolute path and class. The key is what optimisation
publishes and what the daemon compares before trading published parameters; the class is
registered under it so `get_strategy(key)` builds it everywhere.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from thunes.strategy import BUILTIN_NAMES, Strategy, get_strategy, register_strategy
from thunes.strategy.registry import STRATEGIES
from thunes.strategy_files.contract import class_line, contract_problems
from thunes.strategy_files.imports import (
    StrategyLoadError,
    import_dotted,
    import_file,
    located,
)


@dataclass(frozen=True)
class LoadedStrategy:
    """A strategy class and the key that names it."""

    key: str
    cls: type[Strategy]
    source: str  # "built-in", or `path:line` of the class

    @property
    def builtin(self) -> bool:
        return self.key in BUILTIN_NAMES

    def build(self, **params: Any) -> Strategy:
        return get_strategy(self.key, **params)


@dataclass
class FolderScan:
    """What a strategies folder holds: usable strategies and one line per broken one."""

    folder: Path
    strategies: list[LoadedStrategy] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def is_path_spec(text: str) -> bool:
    return text.endswith(".py") or "/" in text or "\\" in text


def resolve(spec: str, strategy_dir: Path | None = None) -> LoadedStrategy:
    """The strategy `spec` names; anything wrong raises `StrategyLoadError` (one line)."""
    text = spec.strip()
    if not text:
        raise StrategyLoadError("no strategy named (empty)")
    if text.lower() in BUILTIN_NAMES:
        name = text.lower()
        return LoadedStrategy(name, STRATEGIES[name], "built-in")
    where, colon, class_name = text.rpartition(":")
    if not colon or not where:
        if is_path_spec(text):
            return _from_file(Path(text), None)
        return _from_folder(text, strategy_dir)
    if is_path_spec(where):
        return _from_file(Path(where), class_name)
    return _from_module(where, class_name)


def load_strategy(
    spec: str, params: Mapping[str, Any] | None = None, strategy_dir: Path | None = None
) -> Strategy:
    """The strategy `spec` names, built with `params` (else its defaults)."""
    return resolve(spec, strategy_dir).build(**(params or {}))


def strategy_key(spec: str, strategy_dir: Path | None = None) -> str:
    """The unambiguous key of `spec` (loading it, so the key is usable at once)."""
    return resolve(spec, strategy_dir).key


def _register(key: str, cls: type[Strategy], source: str) -> LoadedStrategy:
    register_strategy(key, cls)
    return LoadedStrategy(key, cls, source)


def _from_file(path: Path, class_name: str | None) -> LoadedStrategy:
    path = path.expanduser().resolve()
    if path.suffix != ".py":
        raise StrategyLoadError(located(path, None, "a strategy file must end in .py"))
    module = import_file(path)
    cls = _pick(module, path, class_name)
    return _checked(f"{path}:{cls.__name__}", cls, path)


def _from_module(module_name: str, class_name: str) -> LoadedStrategy:
    module = import_dotted(module_name)
    origin = Path(module.__file__).resolve() if module.__file__ else Path(module_name)
    cls = _pick(module, origin, class_name)
    return _checked(f"{module_name}:{class_name}", cls, origin)


def _checked(key: str, cls: type[Strategy], path: Path) -> LoadedStrategy:
    problems = contract_problems(cls, path)
    if problems:
        raise StrategyLoadError(problems[0])
    return _register(key, cls, located(path, class_line(cls), cls.__name__))


def defined_strategies(module: ModuleType) -> list[type[Strategy]]:
    """Concrete Strategy subclasses defined in `module` itself (not imported into it)."""
    found = []
    for _, value in inspect.getmembers(module, inspect.isclass):
        if value.__module__ != module.__name__ or not issubclass(value, Strategy):
            continue
        if value is not Strategy and not inspect.isabstract(value):
            found.append(value)
    return sorted(found, key=lambda c: class_line(c) or 0)


def _pick(module: ModuleType, path: Path, class_name: str | None) -> Any:
    """The named class of `module`, or its only strategy when no name is given."""
    if class_name is not None:
        if not class_name.isidentifier():
            raise StrategyLoadError(located(path, None, f"{class_name!r} is not a class name"))
        if hasattr(module, class_name):
            return getattr(module, class_name)
        there = defined_strategies(module)
        line = class_line(there[0]) if there else 1
        have = ", ".join(c.__name__ for c in there) or "none"
        raise StrategyLoadError(
            located(path, line, f"no class {class_name} here (strategies defined here: {have})")
        )
    there = defined_strategies(module)
    if len(there) != 1:
        names = ", ".join(c.__name__ for c in there) or "none"
        raise StrategyLoadError(
            located(path, 1, f"name the class as {path}:ClassName (strategies here: {names})")
        )
    return there[0]


def scan_folder(folder: Path) -> FolderScan:
    """Every strategy in the folder's .py files (not recursive; `_*.py` skipped)."""
    folder = folder.expanduser().resolve()
    scan = FolderScan(folder)
    if not folder.is_dir():
        return scan
    seen: dict[str, LoadedStrategy] = {}
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith(("_", ".")):
            continue
        try:
            module = import_file(path)
        except StrategyLoadError as exc:
            scan.problems.append(str(exc))
            continue
        for cls in defined_strategies(module):
            _add(scan, seen, path, cls)
    return scan


def _add(scan: FolderScan, seen: dict[str, LoadedStrategy], path: Path, cls: type) -> None:
    problems = contract_problems(cls, path)
    name = getattr(cls, "name", "")
    line = class_line(cls)
    if not problems and name in BUILTIN_NAMES:
        problems = [located(path, line, f"name {name!r} is a built-in strategy's; rename it")]
    if not problems and name in seen:
        problems = [located(path, line, f"name {name!r} is also used by {seen[name].source}")]
    if problems:
        scan.problems.extend(problems)
        return
    loaded = _register(f"{path}:{cls.__name__}", cls, located(path, line, cls.__name__))
    seen[name] = loaded
    scan.strategies.append(loaded)


def _from_folder(name: str, strategy_dir: Path | None) -> LoadedStrategy:
    available = ", ".join(sorted(BUILTIN_NAMES))
    if strategy_dir is None:
        raise StrategyLoadError(f"unknown strategy {name!r}; available: {available}")
    scan = scan_folder(strategy_dir)
    wanted = name.lower()
    clash = [p for p in scan.problems if f"name {wanted!r}" in p]
    if clash:
        raise StrategyLoadError(clash[0])
    for loaded in scan.strategies:
        if loaded.cls.name == wanted:
            return loaded
    if scan.problems:
        raise StrategyLoadError(f"{scan.problems[0]} (looking for strategy {name!r})")
    if scan.strategies:
        names = ", ".join(sorted(s.cls.name for s in scan.strategies))
        available += f"; in {scan.folder}: {names}"
    raise StrategyLoadError(f"unknown strategy {name!r}; available: {available}")
