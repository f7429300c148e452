"""Opens the platform client of a carrier account (simrenew.ports.carrier_store.Platforms): Control
Center or OneLink, with the account's key from the secret store, over the pinned transport."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simrenew.adapters.carrier.http import PinnedTransport, Transport
from simrenew.adapters.carrier.secrets import CarrierSecrets
from simrenew.clock import Clock
from simrenew.domain.carrier import CarrierAccount, Platform
from simrenew.ports.carrier import CarrierPlatform


class PlatformFactory:
    """Opens the adapter of an account with its key from the secret store."""

    def __init__(
        self,
        secrets: CarrierSecrets,
        clock: Clock,
        *,
        local: bool,
        transport: Transport | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._secrets = secrets
        self._clock = clock
        self._local = local
        self._transport = transport or PinnedTransport(local=local)
        self._sleep = sleep

    def open(self, account: CarrierAccount) -> CarrierPlatform:
        from simrenew.adapters.carrier.control_center import ControlCenter
        from simrenew.adapters.carrier.onelink import OneLink

        key = self._secrets.get(account.tenant_id, account.account_id)
        options: dict[str, Any] = {"min_interval_s": 0.0 if self._local else 0.2}
        if self._sleep is not None:
            options["sleep"] = self._sleep
        platform: CarrierPlatform
        if account.platform is Platform.CONTROL_CENTER:
            platform = ControlCenter.connect(
                account.base_url, account.username, key, self._transport, self._clock, **options
            )
        else:
            platform = OneLink.connect(account.base_url, account.username, key, self._transport, self._clock, **options)
        return platform
