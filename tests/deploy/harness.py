"""The deployed-shape tier's machinery: moto's server standing in for AWS (DynamoDB, S3, SES, SNS,
Secrets Manager; Lambda's asynchronous invoke is the tier's own delivery), one warm container per
function (tests/deploy/bootstrap.py in its own interpreter), and the checks made on every
invocation: each AWS call against the function's IAM statements (tests/deploy/iam.py), each
variable the function's own code read against its environment, every ConfigError it raised.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.deploy import iam
from tests.deploy.stack import ACCOUNT, PARTITION, REGION, Function, Stack, build, lambda_env

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
# Variables for the local stack only (load_config() reads DDB_ENDPOINT and S3_ENDPOINT in AWS to
# refuse them), unset in every function's environment.
LOCAL_ONLY = {
    "SIMRENEW_PLATFORM_KEY",
    "DDB_ENDPOINT",
    "STRIPE_SECRET_KEY",
    "STRIPE_PUBLISHABLE_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
    "LOCAL_OUTBOX",
    "ORIGIN_VERIFY_SECRET",
    "S3_ENDPOINT",
}
INVOKE_TIMEOUT_S = 120


@dataclass
class Invocation:
    function: str  # logical id
    event: dict[str, Any]
    result: Any = None
    error: str | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)
    env_reads: list[dict[str, Any]] = field(default_factory=list)
    config_errors: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def invokes(self) -> list[tuple[str, dict[str, Any]]]:
        """(function name, payload) of every asynchronous Lambda invoke it made."""
        out = []
        for call in self.calls:
            params = call["params"]
            if (call["service"], call["operation"]) == ("lambda", "Invoke") and params.get("InvocationType") == "Event":
                payload = params.get("Payload") or "{}"
                out.append((str(params["FunctionName"]), json.loads(payload) if isinstance(payload, str) else payload))
        return out

    def services(self) -> set[str]:
        return {c["service"] for c in self.calls}


class Container:
    """A warm container of one function: its interpreter, its handler imported once."""

    def __init__(self, fn: Function, task: Path, layers: list[Path], endpoint: str, logs: Path) -> None:
        self.fn = fn
        read_fd, write_fd = os.pipe()
        own = [str(task) + os.sep, *(str(layer / "simrenew") + os.sep for layer in layers)]
        config = {
            # Lambda's Python path: the function's code, then each layer's python/ (and its site-packages).
            "sys_path": [str(task), *(str(p) for d in layers for p in (d / "lib/python3.11/site-packages", d))],
            "report_fd": write_fd,
            "own_code": own,
            "endpoint": endpoint,
            "handler": fn.handler,
            "arn": fn.arn,
            "memory": fn.memory,
            "timeout": fn.timeout,
        }
        handle, path = tempfile.mkstemp(prefix=f"{fn.name}-", suffix=".json", dir=logs)
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            json.dump(config, f)
        self.log_path = logs / f"{fn.name}.log"
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-S", str(BOOTSTRAP), path],
            env=lambda_env(fn, task),
            cwd=task,
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=log,
            pass_fds=(write_fd,),
        )
        os.close(write_fd)
        self._reports = os.fdopen(read_fd, "r", encoding="utf-8")
        self.init = self._read()

    def _read(self) -> dict[str, Any]:
        deadline = time.monotonic() + INVOKE_TIMEOUT_S
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self._reports], [], [], 1.0)
            if ready:
                line = self._reports.readline()
                if not line:
                    break
                data: dict[str, Any] = json.loads(line)
                return data
            if self.proc.poll() is not None:
                break
        raise RuntimeError(f"{self.fn.name}: no answer from its container; its log:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def invoke(self, event: dict[str, Any], remaining_ms: list[int] | None = None) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps({"event": event, "remaining_ms": remaining_ms}) + "\n").encode())
        self.proc.stdin.flush()
        return self._read()

    def stop(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self._reports.close()


class Deployment:
    """The stack 'deployed' on moto's server: invoke a function, deliver what it invoked, check all."""

    def __init__(self, stack: Stack, endpoint: str, workdir: Path) -> None:
        self.stack = stack
        self.endpoint = endpoint
        self.workdir = workdir
        self.built = build(stack, workdir / "build")
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.containers: dict[str, Container] = {}
        self.history: list[Invocation] = []
        self.account = self._account()

    def _account(self) -> iam.Account:
        tables: dict[str, str] = {}
        for name, resource in self.stack.of_type("AWS::DynamoDB::Table").items():
            table = str(self.stack.ref(name))
            props = resource.get("Properties", {})
            tables[table] = next(k["AttributeName"] for k in props["KeySchema"] if k["KeyType"] == "HASH")
            for index in props.get("GlobalSecondaryIndexes", []):
                hash_key = next(k["AttributeName"] for k in index["KeySchema"] if k["KeyType"] == "HASH")
                tables[f"{table}/index/{index['IndexName']}"] = hash_key
        secrets = {}
        for name, resource in self.stack.of_type("AWS::SecretsManager::Secret").items():
            arn = str(self.stack.ref(name))
            secrets[arn] = arn
            secrets[str(self.stack.resolve(resource["Properties"]["Name"]))] = arn
        functions = {}
        for fn in self.stack.functions.values():
            functions[fn.function_name] = fn.arn
            functions[fn.arn] = fn.arn
        return iam.Account(PARTITION, REGION, ACCOUNT, tables, secrets, functions)

    def container(self, name: str) -> Container:
        if name not in self.containers:
            fn = self.stack.functions[name]
            layers = [self.built[d] for d in fn.layer_dirs]
            self.containers[name] = Container(fn, self.built[fn.code_dir], layers, self.endpoint, self.logs)
            init = self.containers[name].init
            if "init_error" in init:
                raise RuntimeError(f"{name}: init failed:\n{init['init_error']}")
            # What the import did (module-level load_config(), clients made at import) is checked too.
            problems = self.check(fn, init)
            if problems:
                raise AssertionError(f"{name} at init:\n  " + "\n  ".join(problems))
        return self.containers[name]

    def invoke(self, name: str, event: dict[str, Any], remaining_ms: list[int] | None = None) -> Invocation:
        started = time.monotonic()
        report = self.container(name).invoke(event, remaining_ms)
        inv = Invocation(
            function=name,
            event=event,
            result=report.get("result"),
            error=report.get("error"),
            calls=report.get("calls", []),
            env_reads=report.get("env_reads", []),
            config_errors=report.get("config_errors", []),
            seconds=time.monotonic() - started,
        )
        inv.problems = self.check(self.stack.functions[name], report)
        if inv.error:
            inv.problems.append(f"{name} failed: {inv.error.strip().splitlines()[-1]}")
        self.history.append(inv)
        return inv

    def deliver(self, first: Invocation, limit: int = 200) -> list[Invocation]:
        """Every asynchronous invoke `first` made, delivered to its function as Lambda would (each
        payload as the event), and theirs, until none is left. Returns them in delivery order."""
        pending = list(first.invokes())
        done: list[Invocation] = []
        while pending:
            target, payload = pending.pop(0)
            fn = self.stack.function_named(target)
            assert fn is not None, f"{first.function} invoked {target}, which is no function of the template"
            inv = self.invoke(fn.name, payload)
            done.append(inv)
            pending += inv.invokes()
            assert len(done) <= limit, "more than {limit} invocations: a loop?"
        return done

    # --- the checks ---------------------------------------------------------------------------------------
    def check(self, fn: Function, report: dict[str, Any]) -> list[str]:
        problems = []
        for call in report.get("calls", []):
            try:
                requests = iam.requests_of(call["service"], call["operation"], call["params"], self.account)
            except (KeyError, ValueError) as exc:
                problems.append(f"{fn.name}: {call['service']}:{call['operation']} cannot be authorized: {exc}")
                continue
            for request in requests:
                verdict = iam.decide(fn.statements, request)
                if verdict != "allowed":
                    problems.append(f"{fn.name}: {request.describe()} is {verdict} by its IAM statements")
        env = lambda_env(fn, Path("/var/task"))
        for read in report.get("env_reads", []):
            name = read["name"]
            if read["present"] or name in env or name in LOCAL_ONLY:
                continue
            problems.append(f"{fn.name}: its code reads {name} ({read['file']}:{read['line']}), which it is not given")
        for error in report.get("config_errors", []):
            problems.append(f"{fn.name}: ConfigError {error['message']!r}")
        return problems

    def stop(self) -> None:
        for container in self.containers.values():
            container.stop()
        self.containers.clear()
