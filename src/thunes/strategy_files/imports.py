"""Import a strategy file or module, turning anything that goes wrong into one located line.

An operator's strategy file is code THUNES did not write: a syntax error, a bad import or an
exception at import time must become `path:line: what`, never a traceback.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
import traceback
from pathlib import Path
from types import ModuleType, TracebackType

from thunes.strategy import StrategyError

MODULE_PREFIX = "thunes_user_strategy"
_cache: dict[Path, tuple[str, ModuleType]] = {}


class StrategyLoadError(StrategyError):
    """A strategy that cannot be loaded or breaks the contract; one line, `path:line: why`."""


def located(path: str | Path, line: int | None, message: str) -> str:
    """`path:line: message` (the path alone when no line applies)."""
    return f"{path}:{line}: {message}" if line else f"{path}: {message}"


def module_name_for(path: Path) -> str:
    """A unique, importable module name for a strategy file (so dataclasses and pickling work)."""
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    stem = re.sub(r"\W", "_", path.stem)
    return f"{MODULE_PREFIX}_{stem}_{digest}"


def import_file(path: Path) -> ModuleType:
    """The module of a strategy file, imported again only when its content changed."""
    path = path.resolve()
    if path.exists() and not path.is_file():
        raise StrategyLoadError(located(path, None, "not a file"))
    try:
        version = hashlib.sha1(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise StrategyLoadError(
            located(path, None, f"cannot read: {exc.strerror or exc}")
        ) from None
    cached = _cache.get(path)
    if cached is not None and cached[0] == version:
        return cached[1]
    name = module_name_for(path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise StrategyLoadError(located(path, None, "not a Python file"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:
        sys.modules.pop(name, None)
        if not isinstance(exc, Exception):
            raise
        raise StrategyLoadError(describe_failure(exc, path)) from None
    _cache[path] = (version, module)
    return module


def import_dotted(module: str) -> ModuleType:
    """An installed module named `a.b.c`; failures name the module's file and line."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module == exc.name or module.startswith(exc.name + ".")):
            raise StrategyLoadError(f"{module}: no module named {exc.name!r}") from None
        raise StrategyLoadError(describe_failure(exc, _origin(module))) from None
    except Exception as exc:
        raise StrategyLoadError(describe_failure(exc, _origin(module))) from None


def _origin(module: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    return Path(spec.origin).resolve() if spec is not None and spec.origin else None


def describe_failure(exc: BaseException, path: Path | None) -> str:
    """One line for an exception raised while importing or running strategy code."""
    if isinstance(exc, SyntaxError):
        where = exc.filename or (str(path) if path else "<unknown>")
        return located(where, exc.lineno, f"{type(exc).__name__}: {exc.msg}")
    file, line = frame_in(exc.__traceback__, path)
    return located(file, line, f"{type(exc).__name__}: {_first_line(exc)}")


def frame_in(tb: TracebackType | None, path: Path | None) -> tuple[str, int | None]:
    """The deepest frame in `path` (else the deepest outside importlib) as (file, line)."""
    frames = [f for f in traceback.extract_tb(tb) if not f.filename.startswith("<frozen")]
    if path is not None:
        mine = [f for f in frames if _same(f.filename, path)]
        if mine:
            return str(path), mine[-1].lineno
    if frames:
        return frames[-1].filename, frames[-1].lineno
    return (str(path) if path else "<unknown>"), None


def _same(filename: str, path: Path) -> bool:
    try:
        return Path(filename).resolve() == path
    except OSError:
        return False


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "(no message)"
