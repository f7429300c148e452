"""Repository and service cases against DynamoDB Local."""

from tests.cases.repositories import *  # noqa: F403
