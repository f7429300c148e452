"""转赠 over real HTTP against DynamoDB Local: the API cases, and concurrent transfers that never
give away more than the source has nor half apply."""

from __future__ import annotations

import threading
from datetime import date

from simrenew.domain.dates import add_months
from tests.cases.transfers import *  # noqa: F403
from tests.cases.transfers import _pair, _state, _transfer
from tests.support.client import ApiClient


def test_concurrent_transfers_from_one_terminal_move_exactly_the_months_it_had(
    api: ApiClient, platform_key: str
) -> None:
    pair = _pair(api, platform_key, source_days=100)  # three whole months and a few days
    statuses: list[int] = []

    def one() -> None:
        statuses.append(_transfer(api, pair, {"to_sn": pair.target["sn"], "months": 1, "reason": "并发"}).status)

    threads = [threading.Thread(target=one) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()

    moved = statuses.count(201)
    assert set(statuses) <= {201, 409, 422, 503}, statuses
    assert 1 <= moved <= 3, statuses
    (src_now, src_ledger), (tgt_now, tgt_ledger) = _state(api, pair)
    assert len(src_ledger) == len(tgt_ledger) == moved  # never one side without the other
    assert src_now == add_months(date.fromisoformat(pair.source["expires_on"]), -moved).isoformat()
    expected_target = date.fromisoformat(pair.target["expires_on"])
    for _ in range(moved):
        expected_target = add_months(expected_target, 1)
    assert tgt_now == expected_target.isoformat()
