"""Spreadsheet import API cases on moto, in-process (the same cases run in tests/integration)."""

from tests.cases.spreadsheets import *  # noqa: F403
