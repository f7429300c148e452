"""The query strings of the list and report routes. Every parameter is an optional string: the
rule that reads it (a limit, a date, a status) is the domain's, with its own 400."""

from __future__ import annotations

from pydantic import Field

from chalicelib.requests import Query


class Page(Query):
    limit: str | None = None
    cursor: str | None = None


class TenantList(Query):
    status: str | None = None
    limit: str | None = None
    cursor: str | None = None


class MerchantList(Query):
    q: str | None = None
    sort: str | None = None
    limit: str | None = None
    cursor: str | None = None


class TerminalList(Query):
    status: str | None = None
    merchant_id: str | None = None
    expires_before: str | None = None
    q: str | None = None
    sort: str | None = None
    carrier: str | None = None
    limit: str | None = None
    cursor: str | None = None


class OrderList(Query):
    status: str | None = None
    sn: str | None = None
    channel: str | None = None
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    limit: str | None = None
    cursor: str | None = None


class PublicOrderStatus(Query):
    token: str | None = None
    check: str | None = None


class DateRange(Query):
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None


class Day(Query):
    date: str | None = None


class Expiring(Query):
    days: str | None = None


class Notifications(Query):
    sn: str | None = None
