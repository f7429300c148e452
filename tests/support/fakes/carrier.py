"""What the carrier repository tells the fleet service (is a SIM stopped at its carrier?), in memory."""

from __future__ import annotations

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.carrier import CarrierOpItem, CarrierRepository, CarrierSimItem, _record
from simrenew.domain.carrier import SimRecord
from tests.support.fakes.table import FakeTable


class FakeCarrierRepository(CarrierRepository):
    def __init__(self, table: FakeTable) -> None:
        self.table = table

    def sim(self, tenant_id: str, sn: str) -> SimRecord | None:
        item = self.table.get(CarrierSimItem, keys.tenant_pk(tenant_id), keys.carrier_sim_sk(sn))
        return _record(item) if item else None

    def latest_op(self, tenant_id: str, sn: str) -> CarrierOpItem | None:
        ops = self.table.query(CarrierOpItem, keys.tenant_pk(tenant_id), keys.carrier_ops_prefix(sn))
        return ops[-1] if ops else None

    def ops(self, tenant_id: str, sn: str) -> list[CarrierOpItem]:
        return self.table.query(CarrierOpItem, keys.tenant_pk(tenant_id), keys.carrier_ops_prefix(sn))
