"""Repository and service cases on moto."""

from tests.cases.repositories import *  # noqa: F403
