"""Service phone API cases on moto, in-process (the same cases run in tests/integration)."""

from tests.cases.service_phone import *  # noqa: F403
