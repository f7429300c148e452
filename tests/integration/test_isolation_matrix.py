"""Isolation matrix over real HTTP against DynamoDB Local."""

from tests.cases.isolation import *  # noqa: F403
