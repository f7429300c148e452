"""Where carrier API keys live: one Secrets Manager secret per account in AWS (named
`<prefix><tenant_id>/<account_id>`, the functions allowed only that prefix), a JSON file with
mode 600 under .local/ on a laptop and in tests. A secret is found by (tenant, account) only, never
by a name a caller hands in, so one agent's key cannot be read for another agent. Values are
cached per container; they are never logged and never part of an answer.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
from pathlib import Path
from typing import Any, Protocol

from simrenew.errors import ConfigError, NotFound

_ID = re.compile(r"^[a-z]{1,4}_[A-Za-z0-9]{4,40}$")


def _checked(tenant_id: str, account_id: str) -> str:
    if not (_ID.match(tenant_id) and _ID.match(account_id)):
        raise ValueError("not a tenant or account id")
    return f"{tenant_id}/{account_id}"


class CarrierSecrets(Protocol):
    def put(self, tenant_id: str, account_id: str, api_key: str) -> None: ...

    def get(self, tenant_id: str, account_id: str) -> str: ...

    def delete(self, tenant_id: str, account_id: str) -> None: ...


class SecretsManagerSecrets:
    """AWS: one secret per account. The API function may create, read (for the check) and delete
    under the prefix; the dispatcher and the sync function may only read it (template.yaml)."""

    def __init__(self, prefix: str, region: str, client: Any = None) -> None:
        if not prefix:
            raise ConfigError("CARRIER_SECRET_PREFIX is empty")
        self._prefix = prefix if prefix.endswith("/") else prefix + "/"
        self._region = region
        self._client = client
        self._cache: dict[str, str] = {}
        self._lock = threading.Lock()

    def _sm(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("secretsmanager", region_name=self._region)
        return self._client

    def name(self, tenant_id: str, account_id: str) -> str:
        return self._prefix + _checked(tenant_id, account_id)

    def put(self, tenant_id: str, account_id: str, api_key: str) -> None:
        name = self.name(tenant_id, account_id)
        self._sm().create_secret(
            Name=name,
            Description="SimRenew carrier platform API key (one agent's carrier account)",
            SecretString=json.dumps({"api_key": api_key}),
        )
        with self._lock:
            self._cache[name] = api_key

    def get(self, tenant_id: str, account_id: str) -> str:
        name = self.name(tenant_id, account_id)
        with self._lock:
            if name in self._cache:
                return self._cache[name]
        client = self._sm()
        try:
            raw = client.get_secret_value(SecretId=name)["SecretString"]
        except client.exceptions.ResourceNotFoundException:
            raise NotFound("no key is stored for this carrier account", code="carrier_account_not_found") from None
        value = str(json.loads(raw)["api_key"])
        with self._lock:
            self._cache[name] = value
        return value

    def delete(self, tenant_id: str, account_id: str) -> None:
        name = self.name(tenant_id, account_id)
        client = self._sm()
        with contextlib.suppress(client.exceptions.ResourceNotFoundException):
            client.delete_secret(SecretId=name, RecoveryWindowInDays=7)
        with self._lock:
            self._cache.pop(name, None)


class FileSecrets:
    """Local stack and tests: one JSON file, mode 600, written atomically."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _write(self, data: dict[str, str]) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_name(f".{self._path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out)
        os.replace(tmp, self._path)
        os.chmod(self._path, 0o600)

    def put(self, tenant_id: str, account_id: str, api_key: str) -> None:
        with self._lock:
            data = self._read()
            data[_checked(tenant_id, account_id)] = api_key
            self._write(data)

    def get(self, tenant_id: str, account_id: str) -> str:
        value = self._read().get(_checked(tenant_id, account_id))
        if value is None:
            raise NotFound("no key is stored for this carrier account", code="carrier_account_not_found")
        return value

    def delete(self, tenant_id: str, account_id: str) -> None:
        with self._lock:
            data = self._read()
            if data.pop(_checked(tenant_id, account_id), None) is not None:
                self._write(data)
