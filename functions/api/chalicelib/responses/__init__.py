"""Response models: the JSON every route answers with on success, one module per area.

Routes name their model by its schema name (`response="Terminal"` on `Api.route`): the models are
pydantic, imported only when the OpenAPI document is built or a test checks an answer, never on a
request's path (a cold container imports no more than it did). The schema names are the domain's
(Terminal, Merchant, Order, TerminalPage ...); `openapi.py` emits them under `components.schemas`.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

AREAS = ("service", "tenants", "fleet", "imports", "exports", "orders", "public", "reports", "carrier", "webhooks")


@cache
def models() -> dict[str, type[BaseModel]]:
    """Every response model by its schema name (each area's `MODELS`)."""
    found: dict[str, type[BaseModel]] = {}
    for area in AREAS:
        for model in import_module(f"chalicelib.responses.{area}").MODELS:
            if model.__name__ in found:
                raise ValueError(f"two response models named {model.__name__}")
            found[model.__name__] = model
    return found


def model_for(spec: Any, status: int) -> type[BaseModel] | None:
    """The model of the route's answer with this status, None when it declares none."""
    name = spec.responses.get(status)
    return None if name is None else models()[name]
