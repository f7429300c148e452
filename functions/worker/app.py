"""Import worker function: invoked asynchronously by the API with {tenant_id, import_id}.

It processes the import from its checkpoint and, near the Lambda time limit, hands the
rest to a fresh invocation of itself.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from simrenew.bootstrap import Services, build_services
from simrenew.config import load_config
from simrenew.services.imports import lambda_deadline

CONFIG = load_config()


@cache
def services() -> Services:
    return build_services(CONFIG)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    svc = services()
    outcome = svc.imports.run(
        str(event["tenant_id"]),
        str(event["import_id"]),
        lambda_deadline(context),
        redispatch=lambda: svc.dispatcher.dispatch(event),
    )
    return {"import_id": event["import_id"], "outcome": outcome}
