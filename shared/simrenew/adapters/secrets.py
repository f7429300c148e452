"""Secrets: read from Secrets Manager on first use, cached for the container's life."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

from simrenew.errors import ConfigError

T = TypeVar("T")


class Once(Generic[T]):
    """A value made by `make` on first use, once even when threads race, then kept (secrets,
    credentials, a provider's client)."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        value = self._value
        if value is None:
            with self._lock:
                value = self._value
                if value is None:
                    value = self._value = self._make()
        return value


class SecretValue:
    """A secret given directly (local stack) or fetched once from Secrets Manager (AWS)."""

    def __init__(self, *, value: str | None = None, secret_arn: str | None = None, region: str = "") -> None:
        if value is None and secret_arn is None:
            raise ConfigError("a secret needs a value or a Secrets Manager ARN")
        self._given = value
        self._arn = secret_arn
        self._region = region
        self._value = Once(self._fetch)

    def get(self) -> str:
        return self._value.get()

    def _fetch(self) -> str:
        if self._given is not None:
            return self._given
        import boto3  # only on the AWS path, on first use

        client: Any = boto3.client("secretsmanager", region_name=self._region)
        value = client.get_secret_value(SecretId=self._arn)["SecretString"]
        if not isinstance(value, str) or not value:
            raise ConfigError(f"secret {self._arn} is empty")
        return value


def json_credentials(
    *, local: bool, local_file: str | None, local_variable: str, secret_arn: str | None, arn_variable: str, region: str
) -> dict[str, Any]:
    """A rail's credentials as JSON: the file `local_variable` names on the local stack (written by
    its local platform), the Secrets Manager secret `arn_variable` names in AWS. A missing setting
    is a ConfigError naming the variable."""
    if local:
        if not local_file:
            raise ConfigError(f"set {local_variable} (the local platform's credentials file)")
        raw = Path(local_file).read_text()
    else:
        if not secret_arn:
            raise ConfigError(f"{arn_variable} is required in AWS")
        raw = SecretValue(secret_arn=secret_arn, region=region).get()
    found = json.loads(raw)
    if not isinstance(found, dict):
        raise ConfigError(f"the credentials of {arn_variable if not local else local_variable} are not a JSON object")
    return found


def rail_credentials(config: Any, rail: str, parse: Callable[[dict[str, Any]], T]) -> Callable[[], T]:
    """A direct rail's credentials, read on first use (`parse` makes its keys of the JSON): locally
    the file that {RAIL}_CREDENTIALS names (config.<rail>_credentials, written by its local platform),
    in AWS the secret that {RAIL}_SECRET_ARN names (config.<rail>_secret_arn)."""

    def load() -> T:
        return parse(
            json_credentials(
                local=config.is_local,
                local_file=getattr(config, f"{rail}_credentials"),
                local_variable=f"{rail.upper()}_CREDENTIALS",
                secret_arn=getattr(config, f"{rail}_secret_arn"),
                arn_variable=f"{rail.upper()}_SECRET_ARN",
                region=config.region,
            )
        )

    return load
