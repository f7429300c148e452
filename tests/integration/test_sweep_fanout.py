"""The fanned-out sweep cases against DynamoDB Local."""

from tests.cases.sweep_fanout import *  # noqa: F403
