"""Child processes of the local stack: started bound to 127.0.0.1, stopped with their parent."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
DDB_VERSION = "2.9.30"  # amplify-dynamodb-simulator, bundles DynamoDB Local 1.25.x
DDB_HOME = LOCAL / f"dynamodb-local-{DDB_VERSION}"
# Pinned here, checked on every install: the jar we ran and measured against.
DDB_JAR_SHA256 = "454305e9bc3e6ebcca5b62569869e31563b8d7e346474e94557b2600702146c7"


def _die_with_parent() -> None:
    # Linux: the child gets SIGTERM when the process that started it dies, even by SIGKILL,
    # so no DynamoDB Local or localstripe outlives `make dev` or a test run.
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes] | None, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode} before listening on port {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f}s")


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def spawn(
    args: list[str], log: IO[bytes] | int | None, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args,
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        preexec_fn=_die_with_parent,
    )


def stop(proc: subprocess.Popen[bytes], timeout: float = 10) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


# Starts a local server on the port it is given, its output to the log; returns the process.
Starter = Callable[[int, IO[bytes]], Any]


@contextlib.contextmanager
def serving(start: Starter, log_path: Path) -> Iterator[str]:
    """The server `start` starts on a free 127.0.0.1 port, its output appended to `log_path`: its
    base URL (http://127.0.0.1:port) while the block runs; stopped at the end."""
    port = free_port()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        proc = start(port, log)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            stop(proc)
            assert proc.poll() is not None


def start_api_server(port: int, log: IO[bytes] | int | None, env: dict[str, str], what: str) -> subprocess.Popen[bytes]:
    """infra/serve.py (the local API server) on 127.0.0.1:port, with the functions' environment `env`."""
    child_env = {**env, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "shared")])}
    proc = spawn([sys.executable, "-m", "infra.serve", "--port", str(port)], log, cwd=ROOT, env=child_env)
    wait_for_port(port, proc, 60, what)
    return proc


def start_dynamodb_local(port: int, db_path: Path | None, log: IO[bytes] | int | None) -> subprocess.Popen[bytes]:
    """DynamoDB Local (Amazon's engine) on 127.0.0.1:port; in memory when db_path is None."""
    jar = DDB_HOME / "DynamoDBLocal.jar"
    if not jar.exists():
        raise RuntimeError(f"DynamoDB Local is not installed at {DDB_HOME}; run `make install`")
    args = [
        "java",
        f"-Djava.library.path={DDB_HOME / 'DynamoDBLocal_lib'}",
        "-Xms128m",
        "-Xmx1g",
        "-jar",
        str(jar),
        "-port",
        str(port),
        "-disableTelemetry",
        "-sharedDb",
    ]
    if db_path is None:
        args.append("-inMemory")
    else:
        db_path.mkdir(parents=True, exist_ok=True)
        args += ["-dbPath", str(db_path)]
    proc = spawn(args, log, cwd=DDB_HOME)
    wait_for_port(port, proc, 60, "DynamoDB Local")
    return proc


def start_localstripe(port: int, log: IO[bytes] | int | None) -> subprocess.Popen[bytes]:
    """localstripe (GPL, so its own process) bound to 127.0.0.1 only."""
    code = (
        "import sys, logging; from aiohttp import web; import localstripe.server as s; "
        "import localstripe.resources as r; r.Store.dump_to_disk = lambda self: None; "
        "logging.basicConfig(level=logging.WARNING); "
        "web.run_app(s.app, host='127.0.0.1', port=int(sys.argv[1]), print=None)"
    )
    proc = spawn([sys.executable, "-c", code, str(port)], log)
    wait_for_port(port, proc, 30, "localstripe")
    return proc


def start_local_carrier(
    port: int, state: Path | None, log: IO[bytes] | int | None, api_key: str
) -> subprocess.Popen[bytes]:
    """infra/local_carrier.py (the local Control Center platform) on 127.0.0.1:port; state in
    `state` (a temporary file for tests), its API key given in CARRIER_API_KEY."""
    env = dict(os.environ)
    env["CARRIER_API_KEY"] = api_key
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "shared")])
    args = [sys.executable, "-m", "infra.local_carrier", "--port", str(port)]
    if state is not None:
        args += ["--state", str(state)]
    proc = spawn(args, log, cwd=ROOT, env=env)
    wait_for_port(port, proc, 30, "local carrier platform")
    return proc


def start_outbox_poller(
    checkpoint: Path, log: IO[bytes] | int | None, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """infra/outbox_poller.py in its own process (it binds nothing; it dies with its parent).
    `env` is the functions' environment (TABLE_NAME, DDB_ENDPOINT, ...); None: this process's."""
    child_env = dict(os.environ if env is None else env)
    child_env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "shared")])
    args = [sys.executable, "-m", "infra.outbox_poller", "--checkpoint", str(checkpoint), "--every", "0.3"]
    return spawn(args, log, cwd=ROOT, env=child_env)


def local_aws_env() -> dict[str, str]:
    """Dummy credentials: DynamoDB Local needs some, and they must never be real ones."""
    return {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def environ_with(extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env


def start_local_rail(module: str, port: int, home: Path, log: IO[bytes] | int | None) -> subprocess.Popen[bytes]:
    """infra/local_wechatpay.py or infra/local_alipay.py in its own process on 127.0.0.1:port; its
    keys are made once under `home` (.local/wechatpay, .local/alipay) before it listens."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "shared")])
    proc = spawn([sys.executable, "-m", module, "--port", str(port), "--home", str(home)], log, cwd=ROOT, env=env)
    wait_for_port(port, proc, 60, module)
    return proc


def start_local_wechatpay(port: int, log: IO[bytes] | int | None, home: Path | None = None) -> subprocess.Popen[bytes]:
    return start_local_rail("infra.local_wechatpay", port, home or LOCAL / "wechatpay", log)


def start_local_alipay(port: int, log: IO[bytes] | int | None, home: Path | None = None) -> subprocess.Popen[bytes]:
    return start_local_rail("infra.local_alipay", port, home or LOCAL / "alipay", log)
