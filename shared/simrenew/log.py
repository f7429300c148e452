"""Structured JSON logs (aws-lambda-powertools) carrying tenant_id and request_id."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def get_logger() -> Any:
    # Imported on first use: the Logger pulls in a few modules we do not want on the
    # import path of every cold start.
    from aws_lambda_powertools import Logger

    return Logger(service="simrenew")
