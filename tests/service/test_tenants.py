"""Onboarding through TenantService (on its ports) with the fakes: review, approval, keys."""

from __future__ import annotations

import pytest

from simrenew.domain.tenant import Principal, Role
from simrenew.errors import Conflict, NotFound, RateLimited, RuleViolation
from simrenew.services.tenants import SIGNUPS_PER_HOUR_PER_CLIENT
from tests.service.conftest import World

SIGNUP = {
    "name": "华南代理商",
    "contact_name": "王五",
    "contact_email": "ops@example.com",
    "contact_phone": "13912345678",
}


def test_a_signup_waits_for_review_and_its_approval_issues_the_first_admin_key_once(world: World) -> None:
    tenant = world.onboarding.signup(SIGNUP, "client-1")
    assert tenant.status.value == "pending_review"
    assert world.api_keys.list_all(tenant.tenant_id) == []

    issued = world.onboarding.approve(tenant.tenant_id)

    assert world.onboarding.get(tenant.tenant_id).status.value == "active"
    found = world.api_keys.lookup(issued.key.key_id)
    assert found is not None and (found.tenant_id, found.role) == (tenant.tenant_id, Role.ADMIN)
    with pytest.raises(Conflict) as err:
        world.onboarding.approve(tenant.tenant_id)
    assert err.value.code == "invalid_tenant_state"
    assert len(world.api_keys.list_all(tenant.tenant_id)) == 1


def test_signups_per_client_are_limited_per_hour(world: World) -> None:
    for _ in range(SIGNUPS_PER_HOUR_PER_CLIENT):
        world.onboarding.signup(SIGNUP, "busy-client")
    with pytest.raises(RateLimited):
        world.onboarding.signup(SIGNUP, "busy-client")
    assert world.onboarding.signup(SIGNUP, "another-client").status.value == "pending_review"


def test_a_suspended_agent_is_reinstated_to_where_it_was(world: World) -> None:
    approved = world.onboarding.signup(SIGNUP, "c1").tenant_id
    world.onboarding.approve(approved)
    pending = world.onboarding.signup(SIGNUP, "c2").tenant_id

    for tenant_id in (approved, pending):
        assert world.onboarding.suspend(tenant_id).status.value == "suspended"
        with pytest.raises(Conflict):
            world.onboarding.suspend(tenant_id)

    assert world.onboarding.reinstate(approved).status.value == "active"
    assert world.onboarding.reinstate(pending).status.value == "pending_review"


def test_the_last_admin_key_cannot_be_revoked_and_another_agents_key_is_not_found(world: World) -> None:
    tenant = world.onboarding.signup(SIGNUP, "c1").tenant_id
    first = world.onboarding.approve(tenant)
    other = world.onboarding.signup(SIGNUP, "c2").tenant_id
    theirs = world.onboarding.approve(other)

    with pytest.raises(RuleViolation) as err:
        world.onboarding.revoke_key(tenant, first.key.key_id)
    assert err.value.code == "last_admin_key"
    with pytest.raises(NotFound):
        world.onboarding.revoke_key(tenant, theirs.key.key_id)
    lookup = world.api_keys.lookup(theirs.key.key_id)
    assert lookup is not None and not lookup.revoked

    principal = Principal(tenant_id=tenant, role=Role.ADMIN, key_id=first.key.key_id)
    second = world.onboarding.create_key(principal, {"role": "admin", "label": "spare"})
    world.onboarding.revoke_key(tenant, first.key.key_id)
    revoked = world.api_keys.lookup(first.key.key_id)
    assert revoked is not None and revoked.revoked
    assert world.api_keys.lookup(second.key.key_id) is not None


def test_a_key_for_a_suspended_agent_is_refused(world: World) -> None:
    tenant = world.onboarding.signup(SIGNUP, "c1").tenant_id
    first = world.onboarding.approve(tenant)
    world.onboarding.suspend(tenant)
    principal = Principal(tenant_id=tenant, role=Role.ADMIN, key_id=first.key.key_id)

    with pytest.raises(Conflict) as err:
        world.onboarding.create_key(principal, {"role": "staff"})

    assert err.value.code == "invalid_tenant_state"
    assert len(world.api_keys.list_all(tenant)) == 1
