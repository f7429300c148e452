"""`make bench`'s verdict lines (bench/targets.py) read the right figures and judge them right."""

from __future__ import annotations

from typing import Any

from bench.targets import TARGETS, line, verdicts


def _summary(**over: float) -> dict[str, Any]:
    f = {
        "lookup": 2.0,
        "order": 4.0,
        "fulfil": 3.0,
        "lookup_x": 2.5,
        "webhook_x": 5.0,
        "import": 700.0,
        "raw": 1000.0,
        "sweep": 1.1,
        "cold": 1.2,
    } | over
    return {
        "ddb_per_operation": {
            "public_lookup": {"requests": f["lookup"]},
            "public_order": {"requests": f["order"]},
            "fulfil_1_line": {"requests": f["fulfil"]},
            "sweep_per_due_terminal": {"requests": f["sweep"]},
        },
        "journey": {
            "steps": {"lookup": {"ratio_to_getitem": f["lookup_x"]}, "webhook": {"ratio_to_getitem": f["webhook_x"]}}
        },
        "import": {"terminals_per_s": f["import"], "raw_batch_write_terminals_per_s": f["raw"]},
        "cold_import": {"api": {"ratio_to_boto3": 9.0}, "api + look-up": {"ratio_to_boto3": f["cold"]}},
    }


def test_every_target_is_met_at_its_limit() -> None:
    found = verdicts(_summary())
    assert [v["met"] for v in found] == [True] * len(TARGETS)
    assert line(found[0]).startswith("MET") and "6 before → 2 now (target ≤ 2)" in line(found[0])


def test_one_request_more_or_a_slower_import_is_a_miss() -> None:
    found = {v["key"]: v for v in verdicts(_summary(lookup=3, sweep=1.21, **{"import": 699.0}))}
    assert found["lookup_requests"]["met"] is False
    assert found["import_vs_raw"]["met"] is False and found["import_vs_raw"]["now"] == 0.699
    assert found["sweep_requests"]["met"] is False
    assert found["order_requests"]["met"] is True
    assert line(found["lookup_requests"]).startswith("MISSED")


def test_a_figure_the_run_did_not_produce_is_said_so() -> None:
    summary = _summary()
    del summary["journey"]
    found = {v["key"]: v for v in verdicts(summary)}
    assert found["lookup_vs_getitem"]["met"] is None and line(found["lookup_vs_getitem"]).startswith("NO FIGURE")
    assert found["lookup_requests"]["met"] is True
