"""Builders for fleet data: valid identifiers on demand (unique per call), CSV files."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta
from typing import Any

from simrenew.domain.identifiers import luhn_check_digit

_seq = itertools.count(random.randrange(1, 10**6) * 1000)
IMPORT_HEADER = "sn,tid,iccid,carrier,model,merchant_name,merchant_phone,plan_name,expires_on,data_quota_mb"


def iccid(prefix: str = "898600", n: int | None = None) -> str:
    n = next(_seq) if n is None else n
    body = f"{prefix}{n:013d}"[:19]
    return body + luhn_check_digit(body)


def bad_luhn(value: str) -> str:
    last = int(value[-1])
    return value[:-1] + str((last + 1) % 10)


def terminal_body(**overrides: Any) -> dict[str, Any]:
    n = next(_seq)
    body: dict[str, Any] = {
        "sn": f"SN-{n:010d}",
        "tid": f"{n % 10**8:08d}",
        "iccid": iccid(n=n),
        "model": "PAX A920",
        "expires_on": (date.today() + timedelta(days=90)).isoformat(),
    }
    body.update(overrides)
    return body


def import_cells(
    body: dict[str, Any],
    merchant: tuple[Any, Any] | None = None,
    plan: Any = None,
    quota: Any = None,
    *,
    blank: Any = "",
) -> list[Any]:
    """A terminal's import row, its cells in IMPORT_HEADER's order (the Chinese header's too): a cell
    not given (no carrier in the body, no merchant, plan or quota) is `blank`."""
    name, phone = merchant or (blank, blank)
    return [
        body["sn"],
        body["tid"],
        body["iccid"],
        body.get("carrier", blank),
        body["model"],
        name,
        phone,
        blank if plan is None else plan,
        body["expires_on"],
        blank if quota is None else quota,
    ]


def csv_row(body: dict[str, Any], merchant: tuple[str, str] | None = None, plan: str = "", quota: str = "") -> str:
    return ",".join(import_cells(body, merchant, plan, quota))


def fleet_file(
    rows: int, *, merchants: tuple[str, str, int], bad_offset: int, bad_date: str, encoding: str = "utf-8"
) -> tuple[bytes, set[int]]:
    """A CSV of `rows` terminals expiring over the next year, 1 % bad rows of three kinds in turn
    (a 7-digit TID, a broken Luhn digit, the impossible date `bad_date`), with CRLF line ends as
    Excel writes them: (bytes, the bad rows' line numbers). `merchants` is (name prefix, phone
    prefix, how many): the rows' merchants are numbered `name000`, `phone0000` …"""
    name, phone, count = merchants
    lines, bad = [IMPORT_HEADER], set()
    start = date.today()
    for i in range(rows):
        body = terminal_body(expires_on=(start + timedelta(days=i % 365)).isoformat())
        if i % 100 == bad_offset:
            kind = (i // 100) % 3
            if kind == 0:
                body["tid"] = body["tid"][:7]
            elif kind == 1:
                body["iccid"] = bad_luhn(body["iccid"])
            else:
                body["expires_on"] = bad_date
            bad.add(i + 2)
        lines.append(csv_row(body, (f"{name}{i % count:03d}", f"{phone}{i % count:04d}"), quota="1024"))
    return ("\r\n".join(lines) + "\r\n").encode(encoding), bad
