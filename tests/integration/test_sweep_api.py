"""Sweep API cases over HTTP against DynamoDB Local."""

from tests.cases.sweep_api import *  # noqa: F403
