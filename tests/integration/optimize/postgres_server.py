"""A throw-away PostgreSQL server for tests: initdb in a temporary directory, stopped after.

The machines (developers' and CI's) have PostgreSQL 15's `initdb` and `pg_ctl`, on PATH or
under /usr/lib/postgresql/*/bin. A missing binary or `postgres` system user is a failure, not
a skip: `make test` must prove the shared study against a real server. The server refuses to
run as root, so under root it runs as the `postgres` user (`runuser`).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _binary(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        pytest.fail(f"PostgreSQL's {name} is not on PATH nor under /usr/lib/postgresql/*/bin")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(root: Path) -> list[str]:
    """The command prefix that runs the server's tools as a user allowed to run it."""
    if os.geteuid() != 0:
        return []
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail("tests run as root but there is no `postgres` system user to run the server")
    for path in (root, *root.rglob("*")):
        os.chown(path, user.pw_uid, user.pw_gid)
    return ["runuser", "-u", "postgres", "--"]


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed: {done.stderr.strip() or done.stdout.strip()}")


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server on a free 127.0.0.1 port; yield its SQLAlchemy URL; stop it."""
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    root = Path(tempfile.mkdtemp(prefix="thunes-pg-"))
    root.chmod(0o755)
    data, sockets, log = root / "data", root / "sockets", root / "server.log"
    sockets.mkdir()
    prefix = _as_postgres(root)
    try:
        _run([*prefix, initdb, "-D", str(data), "-A", "trust", "-U", "postgres"])
        port = _free_port()
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1"
        _run([*prefix, pg_ctl, "-D", str(data), "-o", options, "-l", str(log), "-w", "start"])
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        finally:
            _run([*prefix, pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"])
    finally:
        shutil.rmtree(root, ignore_errors=True)
