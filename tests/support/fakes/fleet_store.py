"""The fleet service's terminal store in memory: the real FleetTerminalStore's domain-typed writes
(its ledger line and carrier resume builders) over the FakeTerminalRepository's table writes."""

from __future__ import annotations

from simrenew.adapters.dynamodb.fleet_store import FleetTerminalStore
from tests.support.fakes.fleet import FakeTerminalRepository


class FakeFleetTerminalStore(FakeTerminalRepository, FleetTerminalStore):
    """FakeTerminalRepository's reads and transactions, FleetTerminalStore's methods on top."""
