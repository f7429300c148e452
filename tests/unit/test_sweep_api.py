"""Sweep API cases on moto."""

from tests.cases.sweep_api import *  # noqa: F403
