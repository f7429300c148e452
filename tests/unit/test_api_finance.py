"""Finance role API cases on moto, in-process (the same cases run in tests/integration)."""

from tests.cases.finance import *  # noqa: F403
