"""The carrier platform port: what SimRenew needs of a SIM's carrier platform, in domain terms.

Adapters (simrenew.adapters.carrier: Cisco IoT Control Center REST, 中国移动 OneLink) implement it
with timeouts and retries, and raise only the typed errors of simrenew.domain.carrier.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from datetime import datetime
from typing import Protocol

from simrenew.domain.carrier import SimStatus, SimUsage


class CarrierPlatform(Protocol):
    #: Whether `changed_since` is available (Control Center's Search Devices with modifiedSince).
    supports_changed_since: bool
    #: Records read per batch request (Control Center: 50; OneLink batches: 100).
    page_size: int

    @property
    def requests(self) -> int:
        """Requests sent so far (the sync reports them; the bench counts them)."""
        ...

    def check(self) -> None:
        """One cheap authenticated call: returns, or raises CarrierAuthFailed / CarrierUnreachable."""
        ...

    def status(self, iccid: str) -> SimStatus:
        """The SIM's status now (SimUnknown when this account has no such SIM)."""
        ...

    def usage(self, iccid: str) -> SimUsage:
        """Data used this billing cycle."""
        ...

    def suspend(self, iccid: str) -> None:
        """Ask for the SIM's service to stop (Control Center DEACTIVATED, OneLink 停机). Sent once:
        never retried blindly on a timeout (the caller reads the status first)."""
        ...

    def resume(self, iccid: str) -> None:
        """Ask for the SIM's service again (Control Center ACTIVATED, OneLink 复机)."""
        ...

    def changed_since(self, since: datetime) -> Iterator[SimStatus]:
        """Every SIM of the account whose record changed since `since`, page by page."""
        ...

    def statuses(self, iccids: Iterable[str]) -> Iterator[SimStatus]:
        """The status of each given SIM, in as few requests as the platform allows; a SIM the
        account does not know comes back with state UNKNOWN."""
        ...

    def usages(self, iccids: Iterable[str], rate_plans: Collection[str] = ()) -> Iterator[SimUsage]:
        """Cycle-to-date usage of the given SIMs, in batches where the platform has them
        (`rate_plans`: the plans the SIMs are known to be on, saving Control Center a look-up)."""
        ...
