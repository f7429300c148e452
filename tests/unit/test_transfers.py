"""转赠 on moto: the API cases, plus what needs the services (merchant notices, concurrent change)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from simrenew.adapters.dynamodb.fleet import TerminalRepository
from simrenew.adapters.dynamodb.tenants import TenantRepository
from simrenew.adapters.dynamodb.transfers import TimeTransferRepository
from simrenew.domain.dates import add_months
from simrenew.domain.messages import render
from simrenew.domain.transfers import transferable_months
from simrenew.errors import Conflict
from simrenew.services.transfers import TransferService
from tests.cases.transfers import *  # noqa: F403
from tests.cases.transfers import _pair, _state, _transfer
from tests.support.client import ApiClient
from tests.support.sweep import RecordingSender, sweep_service


@pytest.mark.parametrize(
    ("today", "expires_on", "months"),
    [
        ("2025-01-15", "2025-03-15", 2),  # exactly two months
        ("2025-01-15", "2025-03-14", 1),
        ("2025-01-31", "2025-02-28", 0),  # Feb 28 - 1 month is Jan 28: before today, so nothing to give
        ("2025-01-10", "2025-01-09", 0),  # expired
        ("2025-01-10", "2025-01-10", 0),  # expires today
    ],
)
def test_whole_unused_months_never_move_the_source_before_today(today: str, expires_on: str, months: int) -> None:
    left = transferable_months(date.fromisoformat(expires_on), date.fromisoformat(today))
    assert left == months
    if left:
        assert add_months(date.fromisoformat(expires_on), -left) >= date.fromisoformat(today)


def test_both_merchants_are_told_once_with_the_months_the_other_terminal_and_the_new_expiry(
    api: ApiClient, platform_key: str, services: Any
) -> None:
    pair = _pair(api, platform_key)
    r = _transfer(api, pair, {"to_sn": pair.target["sn"], "months": 3, "reason": "换机"})
    assert r.status == 201, r.body
    sender = RecordingSender()
    drain = sweep_service(sender, services.clock)

    sent = drain.drain_queued()

    assert sent == 2
    by_kind = {m["kind"]: m for m in sender.sent}
    assert set(by_kind) == {"time_transfer_out", "time_transfer_in"}
    out, into = by_kind["time_transfer_out"], by_kind["time_transfer_in"]
    assert (out["sn"], out["to"]) == (pair.source["sn"], "+8613600003333")
    assert (into["sn"], into["to"]) == (pair.target["sn"], "+8613600004444")
    assert (out["ctx"]["months"], out["ctx"]["other_sn"]) == (3, pair.target["sn"])
    assert into["ctx"]["expires_on"] == r.json["to"]["expires_on_after"]
    sms = render("time_transfer_in", "zh-CN", into["ctx"], "sms")[1]
    assert "3个月" in sms and pair.source["sn"] in sms and r.json["to"]["expires_on_after"] in sms
    assert drain.drain_queued() == 0  # each notice once


class _ChangesTargetFirst(TimeTransferRepository):
    """Before the first commit, another writer (a renewal) changes the target terminal."""

    def __init__(self, terminals: Any, clock: Any, times: int = 1) -> None:
        self._terminals, self._clock, self.times, self.calls = terminals, clock, times, 0

    def commit(self, terminals: Any, records: Any, now: datetime) -> bool:
        self.calls += 1
        if self.calls <= self.times:
            from dataclasses import replace

            from simrenew.adapters.dynamodb.fleet import to_terminal

            target_item = self._terminals.item(terminals[1][1].tenant_id, terminals[1][1].sn)
            current = to_terminal(target_item)
            self._terminals.save(target_item, replace(current, expires_on=add_months(current.expires_on, 12)), now, {})
        return super().commit(terminals, records, now)


def test_a_concurrent_change_to_a_terminal_is_retried_on_fresh_data_never_half_applied(
    api: ApiClient, platform_key: str, services: Any
) -> None:
    pair = _pair(api, platform_key)
    repo = _ChangesTargetFirst(TerminalRepository(), services.clock)
    service = TransferService(TenantRepository(), TerminalRepository(), repo, services.clock)

    result = service.transfer_time(
        pair.agent.tenant_id, pair.source["sn"], {"to_sn": pair.target["sn"], "months": 1, "reason": "x"}, "k_test"
    )

    assert repo.calls == 2
    renewed = add_months(date.fromisoformat(pair.target["expires_on"]), 12)
    assert result["to"] == {
        "sn": pair.target["sn"],
        "expires_on_before": renewed.isoformat(),
        "expires_on_after": add_months(renewed, 1).isoformat(),
    }
    (src_now, src_ledger), (tgt_now, tgt_ledger) = _state(api, pair)
    assert tgt_now == add_months(renewed, 1).isoformat()
    assert src_now == add_months(date.fromisoformat(pair.source["expires_on"]), -1).isoformat()
    assert len(src_ledger) == len(tgt_ledger) == 1


def test_a_terminal_that_keeps_changing_is_409_and_nothing_is_written(
    api: ApiClient, platform_key: str, services: Any
) -> None:
    pair = _pair(api, platform_key)
    repo = _ChangesTargetFirst(TerminalRepository(), services.clock, times=99)
    service = TransferService(TenantRepository(), TerminalRepository(), repo, services.clock)
    with pytest.raises(Conflict) as caught:
        service.transfer_time(
            pair.agent.tenant_id, pair.source["sn"], {"to_sn": pair.target["sn"], "months": 1, "reason": "x"}, "k"
        )

    assert caught.value.status == 409
    (src_now, src_ledger), (_tgt, tgt_ledger) = _state(api, pair)
    assert src_now == pair.source["expires_on"] and src_ledger == [] and tgt_ledger == []
