"""Known vulnerabilities in the locked dependencies (requirements.lock), found with pip-audit.

    python -m infra.audit            # prints the result; exit status below

Each vulnerability service is asked in turn (PyPI's advisory data first, then OSV) until one answers:
- 1 when any package has a known vulnerability (package, version, advisory, fixed versions are listed);
  a vulnerability is never skipped, whatever else went wrong;
- 0 when every locked package was audited and none is vulnerable;
- 2 when the audit is incomplete (the service answered, but for only some packages) or pip-audit failed
  for another reason (a bad lock file, a crash): nothing is known to be safe;
- 0 with "skipped: <reason>" only when no service was usable: a network error (no route, DNS, proxy,
  timeout), or a service that answered for none of the packages (a PyPI mirror without the per-release
  JSON API answers 404 for every version, and pip-audit would then print "No known vulnerabilities found").
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
SERVICES = ("pypi", "osv")
TIMEOUT_S = 20

# What requests/urllib3 (and pip-audit's own wrapper) say when the network, not the service, failed.
_NETWORK_ERROR = re.compile(
    r"ConnectionError|ConnectTimeout|ReadTimeout|ProxyError|SSLError|NameResolutionError|Max retries exceeded"
    r"|Temporary failure in name resolution|Name or service not known|Network is unreachable"
    r"|Connection refused|timed out",
)

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


@dataclass(frozen=True)
class Vulnerability:
    package: str
    version: str
    advisory: str
    aliases: tuple[str, ...]
    fixed_in: tuple[str, ...]

    def line(self) -> str:
        aliases = f" ({', '.join(self.aliases)})" if self.aliases else ""
        fixed = ", ".join(self.fixed_in) or "no fixed version yet"
        return f"{self.package} {self.version}: {self.advisory}{aliases}; fixed in {fixed}"


@dataclass
class ServiceResult:
    """What one pip-audit run against one service showed."""

    service: str
    kind: str  # vulnerable | clean | incomplete | no_data | unreachable | error
    audited: int = 0
    vulnerabilities: list[Vulnerability] = field(default_factory=list)
    not_audited: list[str] = field(default_factory=list)
    detail: str = ""


@dataclass
class Outcome:
    status: int
    lines: list[str]


def command(lock: Path, service: str) -> list[str]:
    # --no-deps --disable-pip: the lock is complete and pinned, nothing is resolved or installed.
    return [
        sys.executable,
        "-m",
        "pip_audit",
        "--requirement",
        str(lock),
        "--no-deps",
        "--disable-pip",
        "--vulnerability-service",
        service,
        "--format",
        "json",
        "--aliases",
        "on",
        "--desc",
        "off",
        "--progress-spinner",
        "off",
        "--timeout",
        str(TIMEOUT_S),
    ]


def run_process(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, check=False, timeout=600)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no output)"


def classify(service: str, completed: subprocess.CompletedProcess[str]) -> ServiceResult:
    """Read one pip-audit run: its JSON report when there is one, else why it failed."""
    try:
        report: Any = json.loads(completed.stdout) if completed.stdout.strip() else None
    except ValueError:
        report = None
    if not isinstance(report, dict) or not isinstance(report.get("dependencies"), list):
        kind = "unreachable" if _NETWORK_ERROR.search(completed.stderr) else "error"
        return ServiceResult(service, kind, detail=_last_line(completed.stderr or completed.stdout))
    result = ServiceResult(service, "clean")
    for dep in report["dependencies"]:
        if dep.get("skip_reason"):
            result.not_audited.append(f"{dep.get('name')}: {dep['skip_reason']}")
            continue
        result.audited += 1
        for vuln in dep.get("vulns") or []:
            result.vulnerabilities.append(
                Vulnerability(
                    package=str(dep.get("name")),
                    version=str(dep.get("version")),
                    advisory=str(vuln.get("id")),
                    aliases=tuple(vuln.get("aliases") or ()),
                    fixed_in=tuple(vuln.get("fix_versions") or ()),
                )
            )
    if result.vulnerabilities:
        result.kind = "vulnerable"
    elif result.not_audited and not result.audited:
        result.kind = "no_data"
        result.detail = f"it answered for none of the {len(result.not_audited)} packages ({result.not_audited[0]})"
    elif result.not_audited:
        result.kind = "incomplete"
    return result


def decide(results: list[ServiceResult]) -> Outcome:
    """The exit status and report for the services asked so far (the last one decided, or none could)."""
    last = results[-1]
    if last.kind == "vulnerable":
        lines = [f"{len(last.vulnerabilities)} known vulnerabilities (service: {last.service}):"]
        lines += [f"  {v.line()}" for v in last.vulnerabilities]
        lines += [f"  not audited: {n}" for n in last.not_audited]
        return Outcome(1, lines)
    if last.kind == "clean":
        return Outcome(0, [f"no known vulnerabilities in the {last.audited} locked packages (service: {last.service})"])
    if last.kind == "incomplete":
        lines = [f"incomplete audit (service: {last.service}): {len(last.not_audited)} packages not audited"]
        lines += [f"  {n}" for n in last.not_audited]
        lines.append(f"  the other {last.audited} have no known vulnerabilities")
        return Outcome(2, lines)
    if last.kind == "error":
        return Outcome(2, [f"pip-audit failed (service: {last.service}): {last.detail}"])
    reasons = "; ".join(f"{r.service}: {'unreachable, ' if r.kind == 'unreachable' else ''}{r.detail}" for r in results)
    return Outcome(0, [f"skipped: no vulnerability service could be used ({reasons})"])


def audit(lock: Path = LOCK, services: Sequence[str] = SERVICES, run: Runner = run_process) -> Outcome:
    results: list[ServiceResult] = []
    for service in services:
        results.append(classify(service, run(command(lock, service))))
        if results[-1].kind not in ("unreachable", "no_data"):
            break  # this service decided: vulnerable, clean, incomplete or a failure
    return decide(results)


def main(argv: Sequence[str] | None = None, run: Runner = run_process) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    lock = Path(args[0]) if args else LOCK
    outcome = audit(lock, run=run)
    for line in outcome.lines:
        print(line)
    return outcome.status


if __name__ == "__main__":
    sys.exit(main())
