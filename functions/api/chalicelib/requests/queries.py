"""The query strings of the list and report routes, validated before the handler runs (http._validate)
and handed to it as the model. A parameter a rule reads here (a page's limit, a list's filters: the rules
of simrenew.domain.filters, the carrier filter) is refused by that rule, with its own code and field; the
others are strings as sent, judged by the service that reads them (a report's dates, a status), as a body
the service judges is (`Body.judged`)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Self

from pydantic import BeforeValidator, Field, ModelWrapValidatorHandler, PrivateAttr, model_validator

from chalicelib.requests import Query
from simrenew.adapters.dynamodb.paging import DEFAULT_LIMIT, parse_limit
from simrenew.domain.filters import MerchantFilters, OrderFilters, TerminalFilters
from simrenew.errors import ValidationError


def _disagrees(raw: str | None) -> str | None:
    """?carrier=disagrees: the carrier disagrees with us (docs/carrier.md); no other value."""
    if raw is not None and raw != "disagrees":
        raise ValidationError("carrier", "invalid_choice", "carrier must be 'disagrees'")
    return raw


# A page's size: a whole number from 1 to MAX_LIMIT (the paging rule's own 400), DEFAULT_LIMIT if not sent.
Limit = Annotated[int, BeforeValidator(parse_limit)]


class Page(Query):
    limit: Limit = DEFAULT_LIMIT
    cursor: str | None = None


class Listing(Query):
    """A list with filters (simrenew.domain.filters): judged first, by the filters' own rule. Its parameters
    are declared in the order the document lists them, the page's last."""

    FILTERS: ClassVar[type[MerchantFilters] | type[TerminalFilters] | type[OrderFilters]]
    _filters: Any = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _filters_first(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        sent = data if isinstance(data, dict) else {}
        filters = cls.FILTERS.parse({k: v for k, v in sent.items() if k in cls.FILTERS.FIELDS})
        query = handler(data)
        query._filters = filters
        return query

    def filters(self) -> Any:
        """The list's filters, as the listing service takes them."""
        return self._filters


class TenantList(Query):
    status: str | None = None
    limit: Limit = DEFAULT_LIMIT
    cursor: str | None = None


class MerchantList(Listing):
    FILTERS = MerchantFilters

    q: str | None = None
    sort: str | None = None
    limit: Limit = DEFAULT_LIMIT
    cursor: str | None = None


class TerminalList(Listing):
    FILTERS = TerminalFilters

    status: str | None = None
    merchant_id: str | None = None
    expires_before: str | None = None
    q: str | None = None
    sort: str | None = None
    carrier: Annotated[str | None, BeforeValidator(_disagrees)] = None
    limit: Limit = DEFAULT_LIMIT
    cursor: str | None = None


class OrderList(Listing):
    FILTERS = OrderFilters

    status: str | None = None
    sn: str | None = None
    channel: str | None = None
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    limit: Limit = DEFAULT_LIMIT
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
