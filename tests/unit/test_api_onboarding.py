"""Onboarding API cases on moto, in-process (the same cases run in tests/integration)."""

from tests.cases.onboarding import *  # noqa: F403
