"""Every operation of GET /v1/openapi.json fuzzed with schemathesis against the real local server:
no 5xx ever, every 4xx in exactly the error shape of docs/api.md, 2xx JSON conforming to its schema, and
no operation that declares a key answering 2xx without one. Deterministic (derandomized generation)
and bounded; it works in a tenant of its own and leaves the shared client limits as it found them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.generation.meta import negated_parameters

# schemathesis' pytest loader (`schemathesis.pytest.from_fixture(...).parametrize()`) fails under pytest 9
# (it assigns `request.node._nodeid`); this is the function it runs per operation, called directly.
from schemathesis.pytest.lazy import get_all_tests

from tests.integration.conftest import TABLE
from tests.support.builders import create_agent
from tests.support.client import ApiClient, HttpTransport
from tests.support.env import PLATFORM_KEY
from tests.support.fleet import terminal_body
from tests.support.fuzz import (
    Keys,
    client_limits_restored,
    error_shape,
    error_shape_problems,
    header_size_strategy,
    nested_json,
    nesting_strategy,
    with_path_examples,
    would_run_a_sweep,
)

MAX_EXAMPLES = 25  # random cases per operation in the fuzzing phase (the examples and coverage phases add theirs)

# Checks that hold for this API, plus `error_shape` (tests/support/fuzz.py). Left out on purpose:
# - positive_data_acceptance: the request schemas are deliberately looser than the services' rules (a phone,
#   an ICCID's Luhn digit, `limit` and the Idempotency-Key are plain strings there; a flat fee's `value` is a
#   "number" though it must be whole fen), so schema-valid data is often rightly refused with a 400;
# - unsupported_method (and the coverage phase's undeclared methods): those requests never reach the app; the
#   local dev server answers them itself (Chalice's 405 body, http.server's 501 page for TRACE);
# - use_after_free / ensure_resource_availability / object_level_authorization: stateful, they need links or
#   two identities (tenant isolation has its own matrix in tests/cases/isolation.py).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    missing_required_header,
    ignored_auth,
]

# Values that broke or nearly broke parsers here or elsewhere: non-ASCII digits that str.isdigit() accepts but
# int() refuses or misreads, numbers too long for int(), look-alike letters, impossible dates, huge integers.
TRICKY_STRINGS = [
    "¹",
    "²³",
    "٣",
    "１２３４５６７８",
    "٠١٢٣٤٥٦٧",
    "1" * 5000,
    "9" * 40,
    "-1",
    "+1",
    "1e3",
    " 7 ",
    "NaN",
    "ﬁ12345",
    "\u202eABC123",
    "2025-02-30",
    "２０２５-01-31",
    "9999-12-31",
    "0001-01-01",
    "🙂",
]
TRICKY_INTEGERS = [0, -1, 10**18, 2**63, 10**40]

CONFIG = {
    "dictionaries": {"tricky-strings": {"values": TRICKY_STRINGS}, "tricky-integers": {"values": TRICKY_INTEGERS}},
    "generation": {
        "dictionaries": {
            "string": {"dictionary": "tricky-strings", "probability": 0.2},
            "integer": {"dictionary": "tricky-integers", "probability": 0.2},
        },
        "deterministic": True,
        "max-examples": MAX_EXAMPLES,
        "database": "none",
        "no-shrink": True,
        # Unknown query parameters are ignored, as most HTTP APIs do; negative cases made only of them would
        # fail negative_data_rejection without showing anything wrong.
        "allow-extra-parameters": False,
    },
    "phases": {
        "examples": {"enabled": True},
        "coverage": {"enabled": True, "unexpected-methods": []},
        "fuzzing": {"enabled": True},
        "stateful": {"enabled": False},
    },
}

# One per kind of key and per path example: none of these may be refused on every try, else the run
# proved nothing (a wrong key would turn every answer into a well-shaped 401).
MUST_SUCCEED = {
    "GET /v1/admin/tenants",  # platform key
    "GET /v1/tenant",  # agent admin key
    "POST /v1/api-keys",
    "GET /v1/terminals/{sn}",  # path examples: the fuzz tenant's own resources
    "GET /v1/merchants/{merchant_id}",
}  # not the public lookup: tests before this one may have used up the client's 30 lookups of this minute


@pytest.fixture(scope="module")
def fuzz_tenant(server_url: str) -> dict[str, str]:
    """A tenant of the fuzz test's own with one of each resource, so path examples reach real data."""
    api = ApiClient(HttpTransport(server_url))
    key = create_agent(api, PLATFORM_KEY, name="模糊测试 Fuzz agent").admin_key
    merchant = api.post("/v1/merchants", {"name": "模糊便利店", "phone": "13812345678"}, key=key)
    plan = api.post("/v1/plans", {"name": "年卡", "term_months": 12, "data_quota_mb": 1024, "price_fen": 5000}, key=key)
    assert merchant.status == 201 and plan.status == 201, (merchant.body, plan.body)
    terminal = api.post("/v1/terminals", terminal_body(merchant_id=merchant.json["merchant_id"]), key=key)
    assert terminal.status == 201, terminal.body
    return {
        "admin_key": key,
        "sn": terminal.json["sn"],
        "sn_or_tid": terminal.json["sn"],  # not the TID: fuzzing PATCH /v1/terminals/{sn} may change it
        "merchant_id": merchant.json["merchant_id"],
        "plan_id": plan.json["plan_id"],
    }


@pytest.fixture(scope="module")
def api_schema(server_url: str, fuzz_tenant: dict[str, str]) -> Any:
    raw = requests.get(f"{server_url}/v1/openapi.json", timeout=10)
    assert raw.status_code == 200
    examples = {name: value for name, value in fuzz_tenant.items() if name != "admin_key"}
    config = schemathesis.Config.from_dict({**CONFIG, "base-url": server_url})
    return schemathesis.openapi.from_dict(with_path_examples(raw.json(), examples), config=config)


@pytest.fixture
def limits_kept(ddb_client: Any) -> Iterator[None]:
    with client_limits_restored(ddb_client, TABLE):
        yield


def test_every_operation_answers_in_its_documented_shape(
    api_schema: Any, fuzz_tenant: dict[str, str], limits_kept: None
) -> None:
    keys = Keys(platform=PLATFORM_KEY, agent_admin=fuzz_tenant["admin_key"])
    seen: Counter[tuple[str, int]] = Counter()

    def call_and_check(case: Case[Any]) -> None:
        if would_run_a_sweep(case.method, case.path, case.body):
            return  # a real sweep moves every tenant's terminals: tests/integration/test_sweep_api.py runs it
        # A negative case that drops or garbles the key is sent as generated (expecting a 401); others get the key.
        negated = {name.lower() for name, _location in negated_parameters(case._meta)}
        headers = {} if "authorization" in negated else keys.headers_for(case.operation.definition.raw["x-auth"])
        response = case.call(headers=headers, timeout=30)
        seen[(case.operation.label, response.status_code)] += 1
        case.validate_response(response, checks=CHECKS, additional_checks=[error_shape])

    failures: dict[str, str] = {}
    operations = 0
    hypothesis_settings = settings(deadline=None, suppress_health_check=list(HealthCheck))
    for result in get_all_tests(
        schema=api_schema, test_func=call_and_check, settings=hypothesis_settings, given_kwargs=None
    ):
        if not isinstance(result, Ok):
            failures[f"invalid operation {result.err()}"] = "the OpenAPI document describes it wrongly"
            continue
        operation, run = result.ok()
        operations += 1
        try:
            run()
        except (AssertionError, FailureGroup) as exc:  # every operation runs; the failures are reported together
            failures[operation.label] = str(exc)[:3000]

    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
    assert operations >= 40, f"only {operations} operations in the schema"
    answered = {label for (label, status) in seen if 200 <= status < 300}
    assert answered >= MUST_SUCCEED, f"never answered 2xx: {sorted(MUST_SUCCEED - answered)}; seen: {sorted(seen)}"


# --- nesting depth and header size (issue 13): shapes no schema describes -------------------------------------
PUBLIC_BODY_ROUTES = ("/v1/signup", "/v1/public/orders", "/v1/public/vouchers/redeem")


@settings(max_examples=30, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(shape=nesting_strategy(), route=st.sampled_from(PUBLIC_BODY_ROUTES))
def test_deeply_nested_json_on_public_routes_is_a_4xx_in_the_error_shape(
    server_url: str, limits_kept: None, shape: tuple[int, str], route: str
) -> None:
    depth, kinds = shape
    body = '{"sn": "FUZZ-0001", "name": ' + nested_json(depth, kinds) + "}"
    r = requests.post(
        f"{server_url}{route}", data=body.encode(), headers={"Content-Type": "application/json"}, timeout=60
    )
    assert 400 <= r.status_code < 500, (depth, r.status_code, r.text[:200])
    assert error_shape_problems(r.content) == [], r.text[:300]
    if depth + 1 > 32:
        assert r.json()["error"]["code"] == "body_too_deep"


@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(header=header_size_strategy(), route=st.sampled_from(("/v1/health", *PUBLIC_BODY_ROUTES)))
def test_any_header_size_is_answered_in_the_error_shape_never_html(
    server_url: str, limits_kept: None, header: tuple[str, int], route: str
) -> None:
    name, size = header
    method = "GET" if route == "/v1/health" else "POST"
    r = requests.request(method, f"{server_url}{route}", data=b"{}", headers={name: "a" * size}, timeout=60)
    assert r.status_code < 500, (name, size, r.status_code)
    if r.status_code >= 400:
        assert "text/html" not in r.headers.get("content-type", "")
        assert error_shape_problems(r.content) == [], (name, size, r.text[:300])
