"""Fleet API cases on moto, in-process (the same cases run in tests/integration)."""

from tests.cases.fleet import *  # noqa: F403
