"""Issue 16 lists and screens API cases against DynamoDB Local over real HTTP."""

from tests.cases.screens import *  # noqa: F403
