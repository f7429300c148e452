"""infra/audit.py's decisions on canned pip-audit answers (no network): a known vulnerability always fails,
a clean audit passes, an unusable service is a clearly labelled skip, and nothing in between passes."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from typing import Any

import pytest

from infra import audit

OSV_DOWN = (
    "Traceback (most recent call last):\n  ...\nrequests.exceptions.ConnectionError: HTTPSConnectionPool("
    "host='api.osv.dev', port=443): Max retries exceeded with url: /v1/query (Caused by NameResolutionError("
    "\"Failed to resolve 'api.osv.dev' ([Errno -2] Name or service not known)\"))\n"
)
PYPI_DOWN = (
    "requests.exceptions.ProxyError: HTTPSConnectionPool(host='pypi.org', port=443): Max retries exceeded with "
    "url: /pypi/chalice/1.34.0/json (Caused by ProxyError('Unable to connect to proxy'))\n"
)


def report(*deps: dict[str, Any]) -> str:
    return json.dumps({"dependencies": list(deps), "fixes": []})


def ok(name: str, version: str = "1.0") -> dict[str, Any]:
    return {"name": name, "version": version, "vulns": []}


def vulnerable(name: str = "jinja2", version: str = "2.4.1") -> dict[str, Any]:
    return {
        "name": name,
        "version": version,
        "vulns": [{"id": "PYSEC-2019-217", "fix_versions": ["2.10.1"], "aliases": ["CVE-2019-10906"]}],
    }


def not_found(name: str) -> dict[str, Any]:
    return {"name": name, "skip_reason": f"Dependency not found on PyPI and could not be audited: {name} (1.0)"}


class FakePipAudit:
    """Answers each service with a canned (exit status, stdout, stderr) and records what was run."""

    def __init__(self, **answers: tuple[int, str, str]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def __call__(self, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        service = args[list(args).index("--vulnerability-service") + 1]
        self.asked.append(service)
        code, out, err = self.answers[service]
        return subprocess.CompletedProcess(list(args), code, out, err)


def run(fake: FakePipAudit, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = audit.main([], run=fake)
    return status, capsys.readouterr().out


def test_a_known_vulnerability_fails_and_names_the_package_advisory_and_fix(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakePipAudit(pypi=(1, report(ok("chalice"), vulnerable()), ""))
    status, out = run(fake, capsys)
    assert status == 1
    assert "jinja2 2.4.1: PYSEC-2019-217 (CVE-2019-10906); fixed in 2.10.1" in out
    assert "skipped" not in out
    assert fake.asked == ["pypi"]


def test_a_clean_audit_of_every_package_passes(capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run(FakePipAudit(pypi=(0, report(ok("chalice"), ok("boto3")), "")), capsys)
    assert status == 0
    assert "no known vulnerabilities in the 2 locked packages (service: pypi)" in out
    assert "skipped" not in out


def test_unreachable_services_are_a_labelled_skip_not_a_failure(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakePipAudit(pypi=(1, "", PYPI_DOWN), osv=(1, "", OSV_DOWN))
    status, out = run(fake, capsys)
    assert status == 0
    assert out.startswith("skipped: ")
    assert "pypi: unreachable" in out and "osv: unreachable" in out
    assert fake.asked == ["pypi", "osv"]


def test_a_service_that_knows_none_of_the_packages_is_skipped_for_the_next(capsys: pytest.CaptureFixture[str]) -> None:
    # What PyPI's per-release JSON API answering 404 looks like: pip-audit itself exits 0 ("No known
    # vulnerabilities found") although it audited nothing.
    fake = FakePipAudit(pypi=(0, report(not_found("chalice"), not_found("boto3")), ""), osv=(1, "", OSV_DOWN))
    status, out = run(fake, capsys)
    assert status == 0
    assert out.startswith("skipped: ") and "none of the 2 packages" in out


def test_a_vulnerability_from_the_second_service_fails_even_when_the_first_was_down(
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake = FakePipAudit(pypi=(1, "", PYPI_DOWN), osv=(1, report(vulnerable(), ok("boto3")), ""))
    status, out = run(fake, capsys)
    assert status == 1 and "PYSEC-2019-217" in out and "skipped" not in out


def test_a_vulnerability_is_never_skipped_whatever_the_error_output_says(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakePipAudit(pypi=(1, report(vulnerable(), not_found("boto3")), PYPI_DOWN))
    status, out = run(fake, capsys)
    assert status == 1 and "skipped" not in out and fake.asked == ["pypi"]


def test_an_audit_of_only_some_packages_is_incomplete_not_clean(capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run(FakePipAudit(pypi=(0, report(ok("chalice"), not_found("boto3")), "")), capsys)
    assert status == 2
    assert "incomplete audit" in out and "boto3" in out


def test_any_other_pip_audit_failure_fails(capsys: pytest.CaptureFixture[str]) -> None:
    broken = "ERROR:pip_audit._cli:requirements.lock: invalid requirement: 'chalice=1.34.0'\n"
    status, out = run(FakePipAudit(pypi=(1, "", broken)), capsys)
    assert status == 2 and "pip-audit failed" in out and "skipped" not in out


def test_the_command_audits_the_lock_as_pinned_without_resolving_or_installing() -> None:
    args = audit.command(audit.LOCK, "pypi")
    assert args[1:3] == ["-m", "pip_audit"]
    assert {"--no-deps", "--disable-pip"} <= set(args)
    assert args[args.index("--requirement") + 1] == str(audit.LOCK)
    assert args[args.index("--format") + 1] == "json"
