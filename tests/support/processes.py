"""Real processes for the fault tests: a private redis-server and `crm worker`s."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.support.smtp_server import free_port


class RedisServer:
    """A redis-server of our own on a free loopback port, without persistence (as in CI)."""

    def __init__(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            pytest.fail("redis-server is not installed (.ci/run installs it)")
        self.exe = exe
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.exe, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()


class PostgresCluster:
    """A PostgreSQL server of our own, which a test may crash and start again.

    `initdb` into a private folder under /tmp (trust auth, loopback, a free port, a small
    `shared_buffers`, `fsync` on as in production), `pg_ctl start -w`; `stop_immediate()` is
    `pg_ctl stop -m immediate` (a crash: no shutdown checkpoint, commits made with
    `synchronous_commit = off` and not yet flushed are lost), `start()` runs recovery. The
    server runs as the `postgres` OS user when we are root (initdb refuses root), so the
    folder is created 0700 and handed to that user. Only the Debian `postgresql` package is
    needed (binaries in /usr/lib/postgresql/<version>/bin; `runuser` is util-linux).
    """

    def __init__(self, database: str = "crm", *, shared_buffers: str = "16MB") -> None:
        self.bin = self._find_bin()
        self.database = database
        self.shared_buffers = shared_buffers
        self.port = free_port()
        self.folder: Path | None = None
        self.running = False

    @staticmethod
    def _find_bin() -> Path:
        root = Path("/usr/lib/postgresql")
        versions = sorted((p for p in root.glob("*") if (p / "bin" / "initdb").exists()),
                          key=lambda p: [int(x) for x in p.name.split(".") if x.isdigit()]) if root.exists() else []
        if versions:
            return versions[-1] / "bin"
        on_path = shutil.which("initdb")
        if on_path is None:
            if os.environ.get("CI"):
                pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) not found: .ci/run installs postgresql")
            pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found")
        return Path(on_path).parent

    @property
    def data(self) -> Path:
        assert self.folder is not None
        return self.folder / "data"

    @property
    def log(self) -> Path:
        assert self.folder is not None
        return self.folder / "server.log"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{self.database}"

    def _as_owner(self, *args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        cmd = [str(a) for a in args]
        if os.geteuid() == 0:
            cmd = [shutil.which("runuser") or "/usr/sbin/runuser", "-u", "postgres", "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd="/")
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip() or proc.stdout.strip()}"
                               f"\n{self.tail()}")
        return proc

    def _pg_ctl(self, *args: str, timeout: float = 120) -> None:
        self._as_owner(self.bin / "pg_ctl", "-D", self.data, "-l", self.log, *args, timeout=timeout)

    def create(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="crm-pg-", dir="/tmp"))  # 0700, reachable by postgres
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        self._as_owner(self.bin / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "--encoding=UTF8",
                       "--locale=C.UTF-8", "--no-sync")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(f"\n# tests.processes.PostgresCluster\nlisten_addresses = '127.0.0.1'\nport = {self.port}\n"
                       f"unix_socket_directories = '{self.folder}'\nshared_buffers = {self.shared_buffers}\n"
                       "max_connections = 40\nfsync = on\nsynchronous_commit = on\nlogging_collector = off\n"
                       "log_min_messages = warning\n")
        self.start()
        if self.database != "postgres":
            import psycopg

            with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                                 autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.database}"')

    def start(self) -> None:
        """Start (or restart after a crash: recovery replays the WAL) and wait until it accepts connections."""
        self._pg_ctl("start", "-w", "-t", "60")
        self.running = True

    def stop_immediate(self) -> None:
        """A crash: every server process quits at once, without a checkpoint."""
        self._pg_ctl("stop", "-m", "immediate", "-w", "-t", "60")
        self.running = False

    def stop(self) -> None:
        self._pg_ctl("stop", "-m", "fast", "-w", "-t", "60")
        self.running = False

    def tail(self, chars: int = 3000) -> str:
        try:
            return f"--- postgres log\n{self.log.read_text(errors='replace')[-chars:]}"
        except (OSError, AssertionError):
            return ""

    def __enter__(self) -> PostgresCluster:
        try:
            self.create()
        except BaseException:
            self.__exit__(None)
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None = None, *exc: object) -> None:
        """Stops the server (immediately: its data is thrown away) and removes the folder."""
        if exc_type is not None and issubclass(exc_type, AssertionError):
            print(self.tail())
        if self.folder is None:
            return
        if self.data.exists() and (self.data / "postmaster.pid").exists():
            try:
                self.stop_immediate()
            except (RuntimeError, subprocess.TimeoutExpired):
                pid_file = self.data / "postmaster.pid"
                try:
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGQUIT)
                except (OSError, ValueError, IndexError):
                    pass
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None


class Workers:
    """`crm worker` processes sharing one environment; each can be killed with SIGKILL."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd = cwd
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")} | env
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        """Stops every worker; on a failed assertion, prints the end of their logs first."""
        if exc_type is not None and issubclass(exc_type, AssertionError):
            print(self.tail())
        self.stop_all()

    def start(self) -> subprocess.Popen[bytes]:
        log = self.cwd / f"worker-{len(self.procs)}.log"
        proc = subprocess.Popen([shutil.which("crm") or "crm", "worker", "--watch-interval", "0.5"], cwd=self.cwd,
                                env=self.env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
        self.procs.append(proc)
        self.logs.append(log)
        return proc

    def crm(self, *args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([shutil.which("crm") or "crm", *args], cwd=self.cwd, env=self.env, capture_output=True,
                              text=True, timeout=120)
        if proc.returncode != 0:
            raise AssertionError(f"crm {' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()}")
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()

    def tail(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in self.logs if log.exists())


def wait_until(predicate, timeout: float, what: str, interval: float = 0.1) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
