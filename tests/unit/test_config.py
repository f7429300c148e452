"""Configuration is read in one place and fails loudly when something required is missing."""

from __future__ import annotations

import pytest

from simrenew.config import load_config
from simrenew.errors import ConfigError

GOOD = {
    "SIMRENEW_ENV": "aws",
    "TABLE_NAME": "simrenew",
    "AWS_REGION": "ap-east-1",
    "PUBLIC_BASE_URL": "https://pay.example.com/",
    "PLATFORM_KEY_SECRET_ARN": "arn:aws:secretsmanager:ap-east-1:1:secret:pk",
}


def test_a_complete_environment_loads() -> None:
    cfg = load_config(GOOD)
    assert cfg.table_name == "simrenew"
    assert cfg.public_base_url == "https://pay.example.com"
    assert not cfg.is_local


@pytest.mark.parametrize("name", ["SIMRENEW_ENV", "TABLE_NAME", "AWS_REGION", "PUBLIC_BASE_URL"])
def test_a_missing_required_variable_fails_naming_it(name: str) -> None:
    env = {k: v for k, v in GOOD.items() if k != name}
    with pytest.raises(ConfigError, match=name):
        load_config(env)


def test_without_any_platform_key_source_start_up_fails() -> None:
    env = {k: v for k, v in GOOD.items() if k != "PLATFORM_KEY_SECRET_ARN"}
    with pytest.raises(ConfigError, match="PLATFORM_KEY"):
        load_config(env)


def test_a_short_local_platform_key_is_refused() -> None:
    env = {**GOOD, "SIMRENEW_ENV": "local", "SIMRENEW_PLATFORM_KEY": "short"}
    with pytest.raises(ConfigError, match="24 characters"):
        load_config(env)


def test_dynamodb_endpoint_override_is_refused_in_aws() -> None:
    with pytest.raises(ConfigError, match="DDB_ENDPOINT"):
        load_config({**GOOD, "DDB_ENDPOINT": "http://127.0.0.1:8001"})
