"""The fanned-out sweep cases on moto."""

from tests.cases.sweep_fanout import *  # noqa: F403
