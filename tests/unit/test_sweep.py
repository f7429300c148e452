"""Sweep cases on moto."""

from tests.cases.sweep import *  # noqa: F403
