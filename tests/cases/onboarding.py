"""API behaviour of onboarding, tenant settings and API keys.

Collected twice: by tests/unit (moto, in-process) and tests/integration (DynamoDB Local,
real HTTP). Fixtures `api` and `platform_key` come from each suite's conftest.
"""

from __future__ import annotations

import uuid

import pytest

from tests.support.builders import Agent, create_agent, signup_body
from tests.support.client import ApiClient


def _pending_ids(api: ApiClient, platform_key: str) -> set[str]:
    r = api.get("/v1/admin/tenants?status=pending_review&limit=200", key=platform_key)
    assert r.status == 200
    return {t["tenant_id"] for t in r.json["items"]}


# --- signup and approval ---------------------------------------------------------------------
def test_signup_then_approval_gives_a_working_admin_key(api: ApiClient, platform_key: str) -> None:
    r = api.post("/v1/signup", signup_body(contact_phone="138 0013 8000"))
    assert r.status == 201
    tenant_id = r.json["tenant_id"]
    assert r.json["status"] == "pending_review"
    assert tenant_id in _pending_ids(api, platform_key)

    approved = api.post(f"/v1/admin/tenants/{tenant_id}/approve", key=platform_key)
    assert approved.status == 200
    assert approved.json["status"] == "active"
    key = approved.json["api_key"]

    me = api.get("/v1/tenant", key=key)
    assert me.status == 200
    assert me.json["tenant_id"] == tenant_id
    assert me.json["contact_phone"] == "+8613800138000"
    assert me.json["settings"]["reminder_days"] == [30, 7, 1]

    again = api.post(f"/v1/admin/tenants/{tenant_id}/approve", key=platform_key)
    assert again.status == 409
    assert again.error["code"] == "invalid_tenant_state"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("name", "", "required"),
        ("name", "x" * 101, "too_long"),
        ("contact_email", "not-an-email", "invalid_email"),
        ("contact_phone", "12345", "invalid_phone"),
        ("contact_name", 42, "invalid_type"),
    ],
)
def test_signup_with_a_bad_field_is_400_naming_it_and_writes_nothing(
    api: ApiClient, platform_key: str, field: str, value: object, code: str
) -> None:
    before = _pending_ids(api, platform_key)
    r = api.post("/v1/signup", signup_body(**{field: value}))
    assert r.status == 400
    assert r.error["field"] == field
    assert r.error["code"] == code
    assert _pending_ids(api, platform_key) == before


@pytest.mark.parametrize("missing", ["name", "contact_name", "contact_email", "contact_phone"])
def test_signup_missing_a_field_is_400_naming_it(api: ApiClient, missing: str) -> None:
    body = signup_body()
    del body[missing]
    r = api.post("/v1/signup", body)
    assert r.status == 400
    assert (r.error["field"], r.error["code"]) == (missing, "required")


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"text"', '{"name": "\xff"}'.encode("latin-1")])
def test_a_body_that_is_not_a_json_object_is_400_on_field_body(api: ApiClient, raw: bytes) -> None:
    r = api.call("POST", "/v1/signup", body=raw)
    assert r.status == 400
    assert r.error["field"] == "body"


def test_unknown_fields_are_refused_not_ignored(api: ApiClient, platform_key: str) -> None:
    r = api.post("/v1/signup", signup_body(plan="gold"))
    assert r.status == 400
    assert (r.error["field"], r.error["code"]) == ("plan", "unknown_field")
    agent = create_agent(api, platform_key)
    r = api.post(f"/v1/admin/tenants/{agent.tenant_id}/suspend", {"force": True}, key=platform_key)
    assert r.status == 400
    assert r.error["field"] == "force"
    assert api.get("/v1/tenant", key=agent.admin_key).status == 200


def test_platform_routes_refuse_agent_keys_and_missing_keys(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    assert api.get("/v1/admin/tenants", key=agent.admin_key).status == 401
    assert api.get("/v1/admin/tenants").status == 401
    r = api.post("/v1/admin/tenants", signup_body(), key=agent.admin_key)
    assert r.status == 401
    assert r.error["code"] == "invalid_api_key"


def test_approving_or_suspending_an_unknown_tenant_is_404(api: ApiClient, platform_key: str) -> None:
    assert api.post("/v1/admin/tenants/t_doesnotexist0000/approve", key=platform_key).status == 404
    assert api.post("/v1/admin/tenants/t_doesnotexist0000/suspend", key=platform_key).status == 404


def test_suspending_a_tenant_stops_all_its_keys_at_once(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    staff = agent.key(api, "staff")
    assert api.get("/v1/tenant", key=agent.admin_key).status == 200

    r = api.post(f"/v1/admin/tenants/{agent.tenant_id}/suspend", key=platform_key)
    assert r.status == 200
    assert r.json["status"] == "suspended"

    for key in (agent.admin_key, staff):
        denied = api.get("/v1/api-keys", key=key)
        assert denied.status == 401
        assert denied.error["code"] == "tenant_not_active"
    listed = api.get("/v1/admin/tenants?status=suspended&limit=200", key=platform_key)
    assert agent.tenant_id in {t["tenant_id"] for t in listed.json["items"]}


# --- authentication and roles ------------------------------------------------------------------
@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Basic abc", "Bearer srk_k_0000000000000000_" + "A" * 43, "Bearer not-a-key"],
)
def test_missing_or_wrong_keys_are_401(api: ApiClient, header: str) -> None:
    r = api.call("GET", "/v1/tenant", headers={"Authorization": header} if header else {})
    assert r.status == 401
    assert r.error["code"] in ("missing_api_key", "invalid_api_key")


def test_a_tampered_key_is_401(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    tampered = agent.admin_key[:-1] + ("A" if agent.admin_key[-1] != "A" else "B")
    assert api.get("/v1/tenant", key=tampered).status == 401


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("staff", 403), ("readonly", 403)])
def test_tenant_profile_needs_the_admin_role(api: ApiClient, platform_key: str, role: str, status: int) -> None:
    agent = create_agent(api, platform_key)
    key = agent.admin_key if role == "admin" else agent.key(api, role)
    r = api.get("/v1/tenant", key=key)
    assert r.status == status
    if status == 403:
        assert r.error["code"] == "insufficient_role"


# --- settings ------------------------------------------------------------------------------------
def test_patch_settings_is_validated_and_persisted(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    patch = {
        "settings": {
            "reminder_days": [7, 30, 3],
            "grace_days": 10,
            "renewal_basis": "from_payment",
            "service_fee": {"kind": "percent", "value": 2.5},
            "timezone": "Asia/Urumqi",
            "payment_methods": ["wechat_pay", "alipay"],
            "language": "en",
        }
    }
    r = api.patch("/v1/tenant", patch, key=agent.admin_key)
    assert r.status == 200, r.body
    settings = api.get("/v1/tenant", key=agent.admin_key).json["settings"]
    assert settings["reminder_days"] == [30, 7, 3]
    assert settings["grace_days"] == 10
    assert settings["renewal_basis"] == "from_payment"
    assert settings["service_fee"] == {"kind": "percent", "value": 2.5}
    assert settings["timezone"] == "Asia/Urumqi"
    assert settings["payment_methods"] == ["alipay", "wechat_pay"]
    assert settings["language"] == "en"


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"settings": {"reminder_days": [0]}}, "settings.reminder_days"),
        ({"settings": {"reminder_days": "30"}}, "settings.reminder_days"),
        ({"settings": {"grace_days": 91}}, "settings.grace_days"),
        ({"settings": {"grace_days": True}}, "settings.grace_days"),
        ({"settings": {"renewal_basis": "never"}}, "settings.renewal_basis"),
        ({"settings": {"service_fee": {"kind": "flat", "value": -1}}}, "settings.service_fee.value"),
        ({"settings": {"service_fee": {"kind": "flat", "value": 1.5}}}, "settings.service_fee.value"),
        ({"settings": {"service_fee": {"kind": "percent", "value": 2.555}}}, "settings.service_fee.value"),
        ({"settings": {"service_fee": {"kind": "tip", "value": 1}}}, "settings.service_fee.kind"),
        ({"settings": {"timezone": "Mars/Olympus"}}, "settings.timezone"),
        ({"settings": {"payment_methods": []}}, "settings.payment_methods"),
        ({"settings": {"payment_methods": ["paypal"]}}, "settings.payment_methods"),
        ({"settings": {"colour": "red"}}, "settings.colour"),
        ({"settings": []}, "settings"),
        ({"contact_email": "nope"}, "contact_email"),
        ({}, "body"),
    ],
)
def test_a_bad_patch_is_400_naming_the_field_and_changes_nothing(
    api: ApiClient, platform_key: str, patch: dict[str, object], field: str
) -> None:
    agent = create_agent(api, platform_key)
    # Valid parts next to the bad one must not be applied either.
    body = {**patch, "name": "Renamed Agent"} if patch else patch
    before = api.get("/v1/tenant", key=agent.admin_key).json
    r = api.patch("/v1/tenant", body, key=agent.admin_key)
    assert r.status == 400
    assert r.error["field"] == field
    assert api.get("/v1/tenant", key=agent.admin_key).json == before


# --- API keys ---------------------------------------------------------------------------------
def test_api_keys_are_shown_once_listed_without_secrets_and_revocable(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    created = api.post("/v1/api-keys", {"role": "staff", "label": "前台 front desk"}, key=agent.admin_key)
    assert created.status == 201
    staff_key = created.json["api_key"]
    assert staff_key.startswith("srk_")
    assert created.json["role"] == "staff"

    listing = api.get("/v1/api-keys", key=agent.admin_key)
    assert listing.status == 200
    assert staff_key not in listing.body.decode()
    assert agent.admin_key not in listing.body.decode()
    labels = {k["key_id"]: k for k in listing.json["items"]}
    assert labels[created.json["key_id"]]["label"] == "前台 front desk"
    assert all("hash" not in k and "api_key" not in k for k in listing.json["items"])

    assert api.get("/v1/api-keys", key=staff_key).status == 403  # staff may not manage keys
    assert api.delete(f"/v1/api-keys/{created.json['key_id']}", key=agent.admin_key).status == 204
    revoked = api.get("/v1/api-keys", key=staff_key)
    assert revoked.status == 401
    assert revoked.error["code"] == "revoked_api_key"
    again = api.delete(f"/v1/api-keys/{created.json['key_id']}", key=agent.admin_key)
    assert again.status == 409


def test_the_last_admin_key_cannot_be_revoked(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    r = api.delete(f"/v1/api-keys/{agent.admin_key_id}", key=agent.admin_key)
    assert r.status == 422
    assert r.error["code"] == "last_admin_key"
    second_admin = agent.key(api, "admin")
    assert api.delete(f"/v1/api-keys/{agent.admin_key_id}", key=second_admin).status == 204
    assert api.get("/v1/tenant", key=agent.admin_key).status == 401


@pytest.mark.parametrize(
    ("body", "field"), [({"role": "owner"}, "role"), ({}, "role"), ({"role": "staff", "label": "x" * 61}, "label")]
)
def test_creating_a_key_with_bad_input_is_400_and_creates_none(
    api: ApiClient, platform_key: str, body: dict[str, object], field: str
) -> None:
    agent = create_agent(api, platform_key)
    r = api.post("/v1/api-keys", body, key=agent.admin_key)
    assert r.status == 400
    assert r.error["field"] == field
    assert len(api.get("/v1/api-keys", key=agent.admin_key).json["items"]) == 1


def test_key_listing_pages_with_an_opaque_cursor(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    for _ in range(3):
        agent.key(api, "readonly")
    first = api.get("/v1/api-keys?limit=2", key=agent.admin_key)
    assert len(first.json["items"]) == 2
    assert first.json["next_cursor"]
    second = api.get(f"/v1/api-keys?limit=2&cursor={first.json['next_cursor']}", key=agent.admin_key)
    ids = [k["key_id"] for k in first.json["items"] + second.json["items"]]
    assert len(ids) == len(set(ids)) == 4
    for bad in ("limit=0", "limit=201", "limit=abc", "cursor=%%%", "cursor=eyJ4IjoxfQ"):
        r = api.get(f"/v1/api-keys?{bad}", key=agent.admin_key)
        assert r.status == 400, bad
        assert r.error["field"] in ("limit", "cursor")


# --- idempotency ---------------------------------------------------------------------------------
def test_idempotency_key_replays_the_first_answer_without_the_secret(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    key = str(uuid.uuid4())
    body = {"role": "readonly", "label": "bot"}
    first = api.post("/v1/api-keys", body, key=agent.admin_key, headers={"Idempotency-Key": key})
    second = api.post("/v1/api-keys", body, key=agent.admin_key, headers={"Idempotency-Key": key})
    assert first.status == second.status == 201
    assert second.json["key_id"] == first.json["key_id"]
    assert first.json["api_key"] and second.json["api_key"] is None  # secrets are shown once
    assert second.headers.get("idempotent-replayed") == "true"
    other = api.post("/v1/api-keys", {"role": "staff"}, key=agent.admin_key, headers={"Idempotency-Key": key})
    assert other.status == 409
    assert other.error["code"] == "idempotency_key_reused"
    assert len(api.get("/v1/api-keys", key=agent.admin_key).json["items"]) == 2


# --- tenant isolation ------------------------------------------------------------------------------
def test_one_agent_cannot_see_or_touch_another_agents_keys(api: ApiClient, platform_key: str) -> None:
    a: Agent = create_agent(api, platform_key)
    b: Agent = create_agent(api, platform_key)
    a_staff = api.post("/v1/api-keys", {"role": "staff"}, key=a.admin_key).json

    r = api.delete(f"/v1/api-keys/{a_staff['key_id']}", key=b.admin_key)
    assert r.status == 404
    missing = api.delete("/v1/api-keys/k_0000000000000000", key=b.admin_key)
    assert (r.status, r.error["code"]) == (missing.status, missing.error["code"])
    assert api.get("/v1/api-keys", key=a_staff["api_key"]).status == 403  # still valid (staff role)

    b_list = api.get("/v1/api-keys", key=b.admin_key).body.decode()
    assert a_staff["key_id"] not in b_list and a.admin_key_id not in b_list
    me = api.get("/v1/tenant", key=b.admin_key).json
    assert me["tenant_id"] == b.tenant_id

    for _ in range(2):
        a.key(api, "readonly")
    a_cursor = api.get("/v1/api-keys?limit=1", key=a.admin_key).json["next_cursor"]
    leaked = api.get(f"/v1/api-keys?cursor={a_cursor}", key=b.admin_key)
    assert leaked.status == 400
    assert leaked.error["code"] == "invalid_cursor"


# --- service routes ---------------------------------------------------------------------------------
def test_health_answers_without_a_key(api: ApiClient) -> None:
    r = api.get("/v1/health")
    assert r.status == 200
    assert r.json["status"] == "ok"
    assert r.json["checks"]["dynamodb"] == "ok"


def test_openapi_document_lists_every_route(api: ApiClient) -> None:
    doc = api.get("/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    assert "/v1/tenant" in doc["paths"] and {"get", "patch"} <= set(doc["paths"]["/v1/tenant"])
    assert doc["paths"]["/v1/signup"]["post"]["requestBody"]["content"]["application/json"]["schema"]["required"]


@pytest.mark.parametrize(
    ("method", "path", "who"),
    [
        ("GET", "/v1/merchants/m_{long}", "agent"),
        ("GET", "/v1/orders/o_{long}", "agent"),
        ("DELETE", "/v1/api-keys/k_{long}", "agent"),
        ("GET", "/v1/webhook-endpoints/we_{long}/deliveries", "agent"),
        ("GET", "/v1/admin/tenants/t_{long}", "platform"),
        ("GET", "/v1/public/orders/o_{long}?token=x", "public"),
    ],
)
def test_an_id_too_long_to_exist_is_404_not_a_crash(
    api: ApiClient, platform_key: str, method: str, path: str, who: str
) -> None:
    # Found by fuzzing: a 3000-character id overflowed DynamoDB's key size, which answered a 500.
    key = {"agent": lambda: create_agent(api, platform_key).admin_key, "platform": lambda: platform_key}.get(who)
    r = api.call(method, path.format(long="1" * 3000), key=key() if key else None)
    assert r.status == 404, r.body
    assert r.error["code"].endswith("not_found")


def test_a_key_can_ask_who_it_is_whatever_its_role(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key, name="自知代理 Self-aware")
    for role in ("admin", "staff", "readonly"):
        key = agent.admin_key if role == "admin" else agent.key(api, role)
        r = api.get("/v1/me", key=key)
        assert r.status == 200, r.body
        me = (r.json["tenant_id"], r.json["agent_name"], r.json["role"])
        assert me == (agent.tenant_id, "自知代理 Self-aware", role)
        secret = key.split("_", 3)[3]  # srk_<key_id: k_…>_<secret>; the secret may hold "_" itself
        assert r.json["tenant_status"] == "active" and secret not in r.body.decode()
    assert api.get("/v1/me").status == 401
    assert api.get("/v1/me", key=platform_key).status == 401  # the platform is no agent
