"""Sweep cases against DynamoDB Local."""

from tests.cases.sweep import *  # noqa: F403
