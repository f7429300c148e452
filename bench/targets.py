"""Issue 17's targets, read from a `bench.report` summary: one verdict line per target.

Each target names where its figure sits in the summary, the figure before issue 17 (the
2026-12-01 `make bench` the issue quotes, its baseline) and the limit. `make bench` prints the
verdicts after the run and bench/results.md shows them as its first table. Not a test: a missed
target is reported, never raised."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    before: str  # the figure the issue started from (2026-12-01)
    limit: float
    at_most: bool  # True: the figure must be ≤ limit; False: ≥ limit
    unit: str
    read: Callable[[dict[str, Any]], float | None]
    # The same figure for the path's own DynamoDB requests alone (bench.replay, or the import's
    # transactions alone): its floor here, and what that floor is, for the verdict line.
    floor: Callable[[dict[str, Any]], float | None] | None = None
    floor_is: str = "its own requests replayed alone + HTTP"

    def verdict(self, summary: dict[str, Any]) -> dict[str, Any]:
        try:
            now = self.read(summary)
        except (KeyError, TypeError, ZeroDivisionError):
            now = None
        met = None if now is None else (now <= self.limit if self.at_most else now >= self.limit)
        sign = "≤" if self.at_most else "≥"
        out: dict[str, Any] = {
            "key": self.key,
            "label": self.label,
            "before": self.before,
            "now": None if now is None else round(now, 3),
            "target": f"{sign} {_fmt(self.limit)}{self.unit}",
            "met": met,
        }
        if self.floor is not None:
            try:
                floor = self.floor(summary)
            except (KeyError, TypeError):
                floor = None
            out["floor"] = None if floor is None else round(floor, 3)
            out["floor_is"] = self.floor_is
            # The target is under what the path's own requests take here: no code change reaches it.
            out["under_floor"] = None if floor is None else (floor > self.limit if self.at_most else floor < self.limit)
        return out


def _fmt(value: float) -> str:
    return f"{value:g}"


def _ddb(name: str) -> Callable[[dict[str, Any]], float | None]:
    return lambda s: float(s["ddb_per_operation"][name]["requests"])


def _step(name: str) -> Callable[[dict[str, Any]], float | None]:
    return lambda s: float(s["journey"]["steps"][name]["ratio_to_getitem"])


def _replayed(name: str) -> Callable[[dict[str, Any]], float | None]:
    return lambda s: float(s["journey"]["replayed"][name]["with_http_floor_ratio"])


def _import_vs_raw(s: dict[str, Any]) -> float | None:
    imp = s["import"]
    return float(imp["terminals_per_s"]) / float(imp["raw_batch_write_terminals_per_s"])


def _cold_api(s: dict[str, Any]) -> float | None:
    cold = s["cold_import"]
    entry = cold.get("api + look-up") or cold["api"]
    return float(entry["ratio_to_boto3"])


TARGETS = (
    Target("lookup_requests", "public look-up, DynamoDB requests", "6", 2, True, "", _ddb("public_lookup")),
    Target(
        "lookup_vs_getitem",
        "public look-up over HTTP ÷ bare GetItem",
        "9.4–10.3×",
        3,
        True,
        "×",
        _step("lookup"),
        _replayed("lookup"),
    ),
    Target(
        "fulfil_requests", "one order line fulfilled by its webhook, requests", "7", 3, True, "", _ddb("fulfil_1_line")
    ),
    Target(
        "webhook_vs_getitem",
        "signed webhook → 200 ÷ bare GetItem",
        "12.8–17.7×",
        6,
        True,
        "×",
        _step("webhook"),
        _replayed("webhook"),
    ),
    Target("order_requests", "public order create, requests", "9", 4, True, "", _ddb("public_order")),
    Target(
        "import_vs_raw",
        "import terminals/s ÷ raw BatchWriteItem",
        "0.51×",
        0.7,
        False,
        "×",
        _import_vs_raw,
        lambda s: float(s["import"]["bare_tx_vs_raw"]),
        "its own transactions alone, the same items",
    ),
    Target(
        "sweep_requests",
        "expiry sweep, requests per due terminal",
        "2.26",
        1.2,
        True,
        "",
        lambda s: float(s["ddb_per_operation"]["sweep_per_due_terminal"]["requests"]),
    ),
    Target("cold_api", "cold api container (+ look-up services) ÷ import boto3", "1.57×", 1.3, True, "×", _cold_api),
)


def verdicts(summary: dict[str, Any]) -> list[dict[str, Any]]:
    return [t.verdict(summary) for t in TARGETS]


def line(v: dict[str, Any]) -> str:
    word = {True: "MET   ", False: "MISSED", None: "NO FIGURE"}[v["met"]]
    now = "-" if v["now"] is None else _fmt(v["now"])
    return f"{word} {v['label']}: {v['before']} before → {now} now (target {v['target']}){_floor_note(v)}"


def _floor_note(v: dict[str, Any]) -> str:
    """What the path's own DynamoDB requests alone take here, and whether the target is under it."""
    if v.get("floor") is None:
        return ""
    under = "; the target is under this floor" if v["under_floor"] else ""
    return f"; {v.get('floor_is', Target.floor_is)}: {_fmt(v['floor'])}×{under}"


def markdown_rows(found: list[dict[str, Any]]) -> list[str]:
    out = [
        "## Issue 17 targets",
        "",
        "| path | before (2026-12-01) | this run | target | verdict | floor here |",
        "|---|---:|---:|---|---|---:|",
    ]
    for v in found:
        now = "-" if v["now"] is None else _fmt(v["now"])
        verdict = {True: "met", False: "**missed**", None: "no figure"}[v["met"]]
        floor = "" if v.get("floor") is None else f"{_fmt(v['floor'])}×"
        if v.get("under_floor"):
            floor += " (over the target)"
        out.append(f"| {v['label']} | {v['before']} | {now} | {v['target']} | {verdict} | {floor} |")
    return [*out, ""]
