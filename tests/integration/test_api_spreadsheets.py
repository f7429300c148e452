"""Spreadsheet import API cases over real HTTP against DynamoDB Local (the same cases as tests/unit): the
local server hands the .xlsx body to Chalice base64-encoded, as API Gateway does."""

from tests.cases.spreadsheets import *  # noqa: F403
