"""Issue 16 lists and screens API cases on moto, in-process."""

from tests.cases.screens import *  # noqa: F403
