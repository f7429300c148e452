"""One composition root per function (simrenew/bootstrap.py): each builds with exactly the variables
its template environment sets, fails naming one it needs and lacks, reads none it does not need,
exposes only what its handlers call and builds nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from moto import mock_aws

from simrenew import bootstrap
from simrenew.bootstrap import NEEDS, ROOTS
from simrenew.config import GROUPS, Config, load_config
from simrenew.errors import ConfigError

# The unit suite's table and region (build_services binds the models to them, as conftest does).
BASE = {"SIMRENEW_ENV": "aws", "TABLE_NAME": "simrenew-unit", "AWS_REGION": "us-east-1", "LOG_LEVEL": "INFO"}
VALUES = {
    "PUBLIC_BASE_URL": "https://pay.example.com",
    "PLATFORM_KEY_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:platform-key",
    "STRIPE_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:stripe",
    "WECHATPAY_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:wechatpay",
    "ALIPAY_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:alipay",
    "ORIGIN_VERIFY_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:origin",
    "IMPORT_WORKER_FUNCTION": "simrenew-import-worker-test",
    "SWEEP_FUNCTION": "simrenew-sweep-test",
    "UPLOADS_BUCKET": "simrenew-test-uploads",
    "SENDER_EMAIL": "reminders@example.com",
    "CARRIER_SECRET_PREFIX": "simrenew/test/carrier/",
    "CARRIER_SYNC_FUNCTION": "simrenew-carrier-sync-test",
}
# What each function's handlers call (functions/<fn>/app.py); the API's root is the whole graph.
EXPOSED = {
    "webhook": {"orders"},
    "sweep": {"clock", "sweep_runs", "sweep", "orders", "webhooks", "outbox"},
    "worker": {"imports", "exports", "dispatcher", "objects"},
    "dispatcher": {"outbox"},
    "carrier_sync": {"carrier_sync"},
}
# What each root must not build even when every handler's service is touched.
NEVER_BUILT = {
    "webhook": {"sweep", "sweep_runs", "outbox", "imports", "exports", "auth", "carrier_sync", "carrier_ops"},
    "sweep": {"imports", "exports", "auth", "carrier_sync", "carrier_accounts", "listing"},
    "worker": {"sweep", "sweep_runs", "outbox", "auth", "carrier_sync", "carrier_ops", "carrier_accounts"},
    "dispatcher": {"orders", "gateway", "imports", "exports", "auth", "carrier_sync", "sweep_runs"},
    "carrier_sync": {"orders", "gateway", "sweep", "outbox", "imports", "auth", "carrier_ops", "carrier_accounts"},
}


def env_of(name: str) -> dict[str, str]:
    """Exactly what the function's template environment sets (plus AWS_REGION, set by Lambda)."""
    return {**BASE, **{v: VALUES[v] for v in NEEDS[name].aws_variables()}}


def config_of(name: str, env: dict[str, str] | None = None) -> Config:
    return load_config(env_of(name) if env is None else env, needs=NEEDS[name])


def test_every_aws_variable_of_every_group_has_a_test_value() -> None:
    assert {v for aws, _ in GROUPS.values() for v in aws} == set(VALUES)
    assert set(ROOTS) == set(NEEDS) == {"api", *EXPOSED}


@pytest.mark.parametrize("name", sorted(EXPOSED))
def test_a_root_builds_with_exactly_its_variables_and_exposes_only_its_handlers_needs(name: str) -> None:
    root = ROOTS[name](config_of(name))
    assert {a for a in dir(root) if not a.startswith("_")} == EXPOSED[name]
    for attribute in EXPOSED[name]:
        assert getattr(root, attribute) is not None
    built = set(vars(root._services))  # type: ignore[attr-defined]  # what the lazy graph made
    assert not built & NEVER_BUILT[name], built & NEVER_BUILT[name]


def test_the_api_root_builds_with_exactly_its_variables() -> None:
    svc = bootstrap.build_api(config_of("api"))
    for attribute in ("auth", "tenants", "orders", "exports", "imports", "sweep_runs", "carrier_sync"):
        assert getattr(svc, attribute) is not None
    assert svc.objects.bucket == VALUES["UPLOADS_BUCKET"]
    assert "outbox" not in vars(svc)


@pytest.mark.parametrize("name", sorted(NEEDS))
def test_removing_a_variable_needed_at_start_fails_naming_it(name: str) -> None:
    at_start = ["SIMRENEW_ENV", "TABLE_NAME", "AWS_REGION"]
    at_start += ["PUBLIC_BASE_URL"] if "public_url" in NEEDS[name].groups else []
    at_start += ["PLATFORM_KEY"] if "platform_key" in NEEDS[name].groups else []
    for variable in at_start:
        env = {k: v for k, v in env_of(name).items() if not k.startswith(variable)}
        with pytest.raises(ConfigError, match=variable):
            config_of(name, env)


FIRST_USE: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("api", "SWEEP_FUNCTION", lambda root: root.sweep_runs),
    ("sweep", "SWEEP_FUNCTION", lambda root: root.sweep_runs),
    ("api", "IMPORT_WORKER_FUNCTION", lambda root: root.dispatcher),
    ("worker", "IMPORT_WORKER_FUNCTION", lambda root: root.dispatcher),
    ("api", "UPLOADS_BUCKET", lambda root: root.objects.bucket),
    ("worker", "UPLOADS_BUCKET", lambda root: root.objects.bucket),
    ("webhook", "STRIPE_SECRET_ARN", lambda root: root.orders.handle_webhook(b"{}", "t=1,v1=0")),
    ("sweep", "SENDER_EMAIL", lambda root: bootstrap._notifier(root._services.config)),
    ("dispatcher", "SENDER_EMAIL", lambda root: bootstrap._notifier(root._services.config)),
    ("carrier_sync", "CARRIER_SYNC_FUNCTION", lambda root: root.carrier_sync._dispatch({"tenant_id": "t_1"})),
    # The outbox's carrier operations read the account's key: the stream dispatcher and the drain.
    ("dispatcher", "CARRIER_SECRET_PREFIX", lambda root: root.outbox),
    ("sweep", "CARRIER_SECRET_PREFIX", lambda root: root.outbox),
]


@pytest.mark.parametrize(("name", "variable", "use"), FIRST_USE, ids=[f"{n}-{v}" for n, v, _ in FIRST_USE])
def test_removing_a_variable_read_on_first_use_fails_naming_it_there(
    name: str, variable: str, use: Callable[[Any], Any]
) -> None:
    assert variable in NEEDS[name].aws_variables()
    with (
        mock_aws()
    ):  # with it, the same use gets past the configuration (to moto, which has no such secret or function)
        try:
            use(ROOTS[name](config_of(name)))
        except ConfigError as exc:
            pytest.fail(f"ConfigError with {variable} set: {exc}")
        except Exception:  # noqa: BLE001, S110 - moto's answer for a resource the test did not create
            pass
    env = {k: v for k, v in env_of(name).items() if k != variable}
    root = ROOTS[name](config_of(name, env))  # the root builds: the variable is needed later
    with mock_aws(), pytest.raises(ConfigError, match=variable):
        use(root)


def test_a_variable_outside_a_roots_needs_is_neither_read_nor_required() -> None:
    # The webhook reads no platform key (it would have failed start-up without one), no worker.
    others = {"PLATFORM_KEY_SECRET_ARN": VALUES["PLATFORM_KEY_SECRET_ARN"], "IMPORT_WORKER_FUNCTION": "w"}
    config = config_of("webhook", {**env_of("webhook"), **others})
    assert config.platform_key_secret_arn is None and config.import_worker_function is None
    assert config.stripe_secret_arn == VALUES["STRIPE_SECRET_ARN"]
    # The carrier sync needs no public URL at all.
    assert "PUBLIC_BASE_URL" not in env_of("carrier_sync")
    assert config_of("carrier_sync").carrier_sync_function == VALUES["CARRIER_SYNC_FUNCTION"]


def test_the_local_api_also_reads_the_notifier_it_runs_sweeps_with() -> None:
    # Locally sweep runs stay in the API's process, so its root reads the local outbox's settings;
    # in AWS the API sends nothing, and its template sets no SENDER_EMAIL.
    assert "SENDER_EMAIL" not in NEEDS["api"].aws_variables()
    env = {
        **env_of("api"),
        "SIMRENEW_ENV": "local",
        "SIMRENEW_PLATFORM_KEY": "k" * 24,
        "LOCAL_OUTBOX": ".local/outbox.jsonl",
    }
    env.pop("PLATFORM_KEY_SECRET_ARN")
    assert config_of("api", env).outbox_path == ".local/outbox.jsonl"
    # In AWS the same variable is not read: the API's root reads only what its template sets.
    assert config_of("api", {**env_of("api"), "LOCAL_OUTBOX": ".local/outbox.jsonl"}).outbox_path is None


def test_each_repository_is_the_class_its_annotation_names_made_once() -> None:
    # The annotations are what mypy types `repos.<name>` with; the descriptor imports by name.
    annotations = bootstrap.Repositories.__annotations__
    repos = bootstrap.Repositories()
    assert set(annotations) == {a for a in vars(bootstrap.Repositories) if not a.startswith("_")}
    for attribute, annotation in annotations.items():
        made = getattr(repos, attribute)
        assert annotation == f"_Repository[{type(made).__name__}]", attribute
        assert type(made).__module__ == getattr(bootstrap.Repositories, attribute).module
        assert getattr(repos, attribute) is made  # kept on the instance, as cached_property does


@pytest.mark.parametrize("name", sorted(EXPOSED))
def test_each_forwarded_attribute_is_typed_as_services_types_it(name: str) -> None:
    root_class = type(ROOTS[name](config_of(name)))
    forwarded = {a: t for a, t in root_class.__annotations__.items() if t.startswith("_Forwarded[")}
    assert set(forwarded) == EXPOSED[name] - {"clock"}
    for attribute, annotation in forwarded.items():
        member = vars(bootstrap.Services)[attribute]
        getter = getattr(member, "func", None) or member.fget  # cached_property or property
        assert annotation == f"_Forwarded[{getter.__annotations__['return']}]", attribute
