"""Isolation matrix on moto, in-process."""

from tests.cases.isolation import *  # noqa: F403
