"""Finance role API cases over real HTTP against DynamoDB Local (the same cases as tests/unit)."""

from tests.cases.finance import *  # noqa: F403
