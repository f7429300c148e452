"""Answers of the carrier routes (docs/carrier.md): accounts, syncs, drift and carrier operations."""

from __future__ import annotations

from chalicelib.responses._base import AccountCarrier, CarrierPlatform, Out, Page, TerminalStatus, absent


class CarrierSync(Out):
    """One account's last sync: its counts, or the error that stopped it."""

    state: str | None
    started_at: str
    finished_at: str
    sims: int = absent()
    statuses_read: int = absent()
    usages_read: int = absent()
    carrier_requests: int = absent()
    status_requests: int = absent()
    usage_requests: int = absent()
    page_size: int = absent()
    sim_writes: int = absent()
    usage_writes: int = absent()
    drift: int = absent()
    error: str = absent()


class CarrierAccount(Out):
    account_id: str
    carrier: AccountCarrier
    platform: CarrierPlatform
    base_url: str
    username: str
    status: str
    created_at: str
    checked_at: str | None
    last_sync: CarrierSync | None


class CarrierAccountPage(Page[CarrierAccount]):
    pass


class CarrierAccountCheck(Out):
    ok: bool
    account_id: str
    status: str


class CarrierSyncQueued(Out):
    sync_id: str
    status: str
    accounts: list[str]


class CarrierAccountSync(Out):
    account_id: str
    carrier: AccountCarrier
    last_sync: CarrierSync | None


class CarrierSyncStatus(Out):
    accounts: list[CarrierAccountSync]


class CarrierDrift(Out):
    sn: str
    iccid: str
    carrier: str
    status: TerminalStatus
    carrier_status: str | None
    carrier_state: str | None
    reason: str
    synced_at: str | None


class CarrierDriftReport(Out):
    items: list[CarrierDrift]
    count: int
    generated_at: str


class CarrierOperation(Out):
    op_id: str
    sn: str
    action: str
    state: str
    outcome: str | None
    attempts: int
    last_error: str | None
    next_attempt_at: str | None
    created_at: str | None
    done_at: str | None


class CarrierOperationRetried(CarrierOperation):
    result: str


class CarrierOperationPage(Page[CarrierOperation]):
    pass


class CarrierState(Out):
    """A terminal's SIM as its carrier reports it (all null until a sync read it)."""

    status: str | None
    state: str | None
    data_used_mb: int | None
    usage_as_of: str | None
    synced_at: str | None
    pending: str | None
    last_error: str | None
    drift: str | None
    last_operation: CarrierOperation = absent()


MODELS = [
    CarrierSync,
    CarrierAccount,
    CarrierAccountPage,
    CarrierAccountCheck,
    CarrierSyncQueued,
    CarrierAccountSync,
    CarrierSyncStatus,
    CarrierDrift,
    CarrierDriftReport,
    CarrierOperation,
    CarrierOperationRetried,
    CarrierOperationPage,
    CarrierState,
]
