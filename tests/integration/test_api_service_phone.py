"""Service phone API cases over real HTTP against DynamoDB Local (the same cases as tests/unit)."""

from tests.cases.service_phone import *  # noqa: F403
