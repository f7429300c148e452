"""转赠 (POST /v1/terminals/{sn}/transfer-time) through the API: run on moto in-process (unit) and
over real HTTP against DynamoDB Local (integration)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from simrenew.domain.dates import add_months
from tests.support.builders import Agent, create_agent
from tests.support.client import ApiClient
from tests.support.fleet import terminal_body


def _today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the agents' default timezone


@dataclass
class Pair:
    agent: Agent
    source: dict[str, Any]
    target: dict[str, Any]


def _pair(api: ApiClient, platform_key: str, source_days: int = 200, target_days: int = 10) -> Pair:
    agent = create_agent(api, platform_key)
    shop = api.post("/v1/merchants", {"name": "张记便利店", "phone": "13600003333"}, key=agent.admin_key).json
    other = api.post("/v1/merchants", {"name": "李家面馆", "phone": "13600004444"}, key=agent.admin_key).json
    source = api.post(
        "/v1/terminals",
        terminal_body(merchant_id=shop["merchant_id"], expires_on=(_today() + timedelta(days=source_days)).isoformat()),
        key=agent.admin_key,
    )
    target = api.post(
        "/v1/terminals",
        terminal_body(
            merchant_id=other["merchant_id"], expires_on=(_today() + timedelta(days=target_days)).isoformat()
        ),
        key=agent.admin_key,
    )
    assert source.status == 201 and target.status == 201, (source.body, target.body)
    return Pair(agent, source.json, target.json)


def _transfer(api: ApiClient, pair: Pair, body: dict[str, Any], key: str | None = None, **kw: Any) -> Any:
    return api.post(f"/v1/terminals/{pair.source['sn']}/transfer-time", body, key=key or pair.agent.admin_key, **kw)


def _state(api: ApiClient, pair: Pair) -> tuple[Any, ...]:
    key = pair.agent.admin_key
    return tuple(
        (
            api.get(f"/v1/terminals/{t['sn']}", key=key).json["expires_on"],
            api.get(f"/v1/terminals/{t['sn']}/renewals", key=key).json["items"],
        )
        for t in (pair.source, pair.target)
    )


def test_an_admin_moves_whole_months_and_each_terminal_shows_a_ledger_line_naming_the_other(
    api: ApiClient, platform_key: str
) -> None:
    pair = _pair(api, platform_key)
    src_before, tgt_before = (
        date.fromisoformat(pair.source["expires_on"]),
        date.fromisoformat(pair.target["expires_on"]),
    )

    r = _transfer(api, pair, {"to_sn": pair.target["sn"].lower(), "months": 2, "reason": "商户换机"})

    assert r.status == 201, r.body
    src_after, tgt_after = add_months(src_before, -2).isoformat(), add_months(tgt_before, 2).isoformat()
    assert r.json["from"] == {
        "sn": pair.source["sn"],
        "expires_on_before": str(src_before),
        "expires_on_after": src_after,
    }
    assert r.json["to"] == {
        "sn": pair.target["sn"],
        "expires_on_before": str(tgt_before),
        "expires_on_after": tgt_after,
    }
    (src_now, src_ledger), (tgt_now, tgt_ledger) = _state(api, pair)
    assert (src_now, tgt_now) == (src_after, tgt_after)
    [out] = src_ledger
    [into] = tgt_ledger
    assert (out["kind"], out["term_months"], out["amount_fen"]) == ("transfer_out", -2, 0)
    assert (into["kind"], into["term_months"], into["amount_fen"]) == ("transfer_in", 2, 0)
    assert pair.target["sn"] in out["source"] and r.json["transfer_id"] in out["source"]
    assert pair.source["sn"] in into["source"] and r.json["transfer_id"] in into["source"]
    assert (out["old_expires_on"], out["new_expires_on"]) == (str(src_before), src_after)
    assert (into["old_expires_on"], into["new_expires_on"]) == (str(tgt_before), tgt_after)


def test_an_expired_target_gets_its_months_from_today_and_is_active_again(api: ApiClient, platform_key: str) -> None:
    pair = _pair(api, platform_key, target_days=-3)
    assert pair.target["status"] == "grace"

    r = _transfer(api, pair, {"to_sn": pair.target["sn"], "months": 1, "reason": "补偿"})

    assert r.status == 201, r.body
    target = api.get(f"/v1/terminals/{pair.target['sn']}", key=pair.agent.admin_key).json
    assert target["expires_on"] == add_months(_today(), 1).isoformat()
    assert target["status"] == "active"


def test_more_months_than_are_left_is_422_naming_how_many_are_left_and_changes_nothing(
    api: ApiClient, platform_key: str
) -> None:
    pair = _pair(api, platform_key, source_days=70)  # two whole months and a few days
    before = _state(api, pair)

    r = _transfer(api, pair, {"to_sn": pair.target["sn"], "months": 3, "reason": "x"})

    assert (r.status, r.error["code"]) == (422, "not_enough_time")
    assert "2 whole unused month" in r.error["message"]
    assert _state(api, pair) == before
    assert _transfer(api, pair, {"to_sn": pair.target["sn"], "months": 2, "reason": "x"}).status == 201


def test_bad_input_is_400_naming_the_field_and_writes_nothing(api: ApiClient, platform_key: str) -> None:
    pair = _pair(api, platform_key)
    before = _state(api, pair)
    to = pair.target["sn"]
    cases = [
        ({"to_sn": to, "months": 0, "reason": "x"}, "months"),
        ({"to_sn": to, "months": 37, "reason": "x"}, "months"),
        ({"to_sn": to, "months": "2", "reason": "x"}, "months"),
        ({"to_sn": to, "months": 1.5, "reason": "x"}, "months"),
        ({"to_sn": to, "months": True, "reason": "x"}, "months"),
        ({"to_sn": to, "reason": "x"}, "months"),
        ({"to_sn": pair.source["sn"].lower(), "months": 1, "reason": "x"}, "to_sn"),
        ({"to_sn": "bad sn!", "months": 1, "reason": "x"}, "to_sn"),
        ({"months": 1, "reason": "x"}, "to_sn"),
        ({"to_sn": to, "months": 1}, "reason"),
        ({"to_sn": to, "months": 1, "reason": "  "}, "reason"),
        ({"to_sn": to, "months": 1, "reason": "x" * 501}, "reason"),
        ({"to_sn": to, "months": 1, "reason": "x", "amount_fen": 1}, "amount_fen"),
    ]
    for body, field in cases:
        r = _transfer(api, pair, body)
        assert (r.status, r.error.get("field")) == (400, field), (body, r.body)
    assert _state(api, pair) == before


def test_only_an_admin_key_may_transfer(api: ApiClient, platform_key: str) -> None:
    pair = _pair(api, platform_key)
    before = _state(api, pair)
    body = {"to_sn": pair.target["sn"], "months": 1, "reason": "x"}
    for role in ("staff", "readonly"):
        r = _transfer(api, pair, body, key=pair.agent.key(api, role))
        assert r.status == 403, (role, r.body)
    assert _state(api, pair) == before


def test_another_agents_terminal_is_404_exactly_like_one_that_does_not_exist(api: ApiClient, platform_key: str) -> None:
    mine, theirs = _pair(api, platform_key), _pair(api, platform_key)
    before_mine, before_theirs = _state(api, mine), _state(api, theirs)
    body = {"months": 1, "reason": "x"}

    to_theirs = _transfer(api, mine, {**body, "to_sn": theirs.target["sn"]})
    to_nothing = _transfer(api, mine, {**body, "to_sn": "NO-SUCH-TERMINAL-1"})
    from_theirs = api.post(
        f"/v1/terminals/{theirs.source['sn']}/transfer-time",
        {**body, "to_sn": mine.target["sn"]},
        key=mine.agent.admin_key,
    )
    from_nothing = api.post(
        "/v1/terminals/NO-SUCH-TERMINAL-2/transfer-time", {**body, "to_sn": mine.target["sn"]}, key=mine.agent.admin_key
    )

    assert to_theirs.status == from_theirs.status == 404
    assert to_theirs.error == to_nothing.error
    assert from_theirs.error == from_nothing.error
    assert theirs.target["sn"] not in to_theirs.body.decode() and theirs.source["sn"] not in from_theirs.body.decode()
    assert (_state(api, mine), _state(api, theirs)) == (before_mine, before_theirs)


def test_a_deactivated_terminal_on_either_side_is_422(api: ApiClient, platform_key: str) -> None:
    for side in ("source", "target"):
        pair = _pair(api, platform_key)
        sn = getattr(pair, side)["sn"]
        assert api.post(f"/v1/terminals/{sn}/deactivate", {}, key=pair.agent.admin_key).status == 200
        before = _state(api, pair)
        r = _transfer(api, pair, {"to_sn": pair.target["sn"], "months": 1, "reason": "x"})
        assert (r.status, r.error["code"]) == (422, "terminal_deactivated"), (side, r.body)
        assert _state(api, pair) == before


def test_the_same_idempotency_key_replays_the_first_transfer_and_moves_time_once(
    api: ApiClient, platform_key: str
) -> None:
    pair = _pair(api, platform_key)
    body = {"to_sn": pair.target["sn"], "months": 1, "reason": "换机"}
    headers = {"Idempotency-Key": "xfer-once-1"}

    first = _transfer(api, pair, body, headers=headers)
    again = _transfer(api, pair, body, headers=headers)
    other_body = _transfer(api, pair, {**body, "months": 2}, headers=headers)

    assert first.status == again.status == 201
    assert again.json == first.json and again.headers.get("idempotent-replayed") == "true"
    assert other_body.status == 409
    (src_now, src_ledger), _target = _state(api, pair)
    assert len(src_ledger) == 1
    assert src_now == add_months(date.fromisoformat(pair.source["expires_on"]), -1).isoformat()
