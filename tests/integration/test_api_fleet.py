"""Fleet API cases over real HTTP against DynamoDB Local (the same cases as tests/unit)."""

from tests.cases.fleet import *  # noqa: F403
