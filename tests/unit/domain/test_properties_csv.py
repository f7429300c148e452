"""Properties of the fleet CSV parser (domain/csvfile.py) beyond test_domain_csvfile.py: CSV-shaped garbage
(quotes, separators, line breaks, stray bytes) never crashes it with anything but the documented file errors,
and it never hands on a partial row: every row has every column, and a record that does not line up with the
header is reported by the import's row validator rather than imported with shifted or missing values."""

from __future__ import annotations

import codecs
from typing import Any, cast

from hypothesis import given, settings
from hypothesis import strategies as st

from simrenew.domain.csvfile import IMPORT_COLUMNS, export_csv_line, export_header_line, parse_import
from simrenew.domain.identifiers import luhn_check_digit
from simrenew.errors import ValidationError
from simrenew.services.imports import ImportService, _Seen

# Deterministic for CI (no example database, no random seed); the file runs in a few seconds.
PROPERTY = settings(max_examples=200, deadline=None, derandomize=True, database=None)

# The error codes parse_import documents for a file it cannot read (all on field "file").
FILE_ERRORS = {
    "empty_file",
    "invalid_encoding",
    "malformed_csv",
    "too_many_rows",
    "missing_columns",
    "unknown_columns",
    "duplicate_columns",
}
HEADER = ",".join(IMPORT_COLUMNS)

# Cells built from what trips CSV readers: quotes, separators, both line breaks, NUL, BOM, non-ASCII.
cells = st.text(alphabet=st.sampled_from(list('ab1 ,"\r\n\t\x00\ufeff张\u2028;')), max_size=8)
records = st.lists(cells, min_size=0, max_size=13).map(lambda cs: ",".join(cs))
encodings = st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"])


@st.composite
def csv_ish_files(draw: st.DrawFn) -> bytes:
    """A header (sometimes the real one, with extra or missing cells) and CSV-shaped lines, encoded somehow,
    sometimes with raw bytes spliced in."""
    header = draw(st.sampled_from([HEADER, HEADER + ",,", HEADER.upper(), HEADER + ",extra", "sn,tid", ""]))
    lines = [header, *draw(st.lists(records, max_size=6))]
    newline = draw(st.sampled_from(["\r\n", "\n", "\r"]))
    text = newline.join(lines) + draw(st.sampled_from(["", newline]))
    encoding = draw(encodings)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    if draw(st.booleans()):
        at = draw(st.integers(min_value=0, max_value=len(data)))
        data = data[:at] + draw(st.binary(max_size=6)) + data[at:]
    return data


def validate_row(row: Any) -> Any:
    """The import's own row check (ImportService._validate uses no service state), fresh for each row."""
    return ImportService._validate(cast(Any, None), row, _Seen())


@PROPERTY
@given(data=csv_ish_files())
def test_csv_shaped_garbage_parses_or_is_refused_with_a_documented_file_error(data: bytes) -> None:
    try:
        parsed = parse_import(data)
    except ValidationError as exc:
        assert (exc.field, exc.code in FILE_ERRORS) == ("file", True), (exc.field, exc.code)
        assert exc.message
        return
    assert parsed.total == len(parsed.rows)
    numbers = [r.row for r in parsed.rows]
    assert numbers == sorted(set(numbers)) and all(n >= 2 for n in numbers)  # the header is line 1
    for row in parsed.rows:
        assert set(row.values) == set(IMPORT_COLUMNS)
        assert all(isinstance(v, str) for v in row.values.values())
        assert row.field_count is not None and row.field_count >= 1


@PROPERTY
@given(data=csv_ish_files())
def test_every_row_is_complete_or_reported_by_the_row_validator(data: bytes) -> None:
    try:
        parsed = parse_import(data)
    except ValidationError:
        return
    for row in parsed.rows:
        checked = validate_row(row)
        if row.field_count != len(IMPORT_COLUMNS):
            # Too short or too long: refused as a whole, never imported with shifted or missing values.
            assert (checked.field, checked.code) == ("row", "wrong_field_count"), checked


# A complete, valid row; the cells of these columns are what the properties below move around.
VALID_ROW = {
    "sn": "PAX-A920-0001",
    "tid": "12345678",
    "iccid": "8986001234567890123" + luhn_check_digit("8986001234567890123"),
    "carrier": "",
    "model": "PAX A920",
    "merchant_name": "",
    "merchant_phone": "",
    "plan_name": "",
    "expires_on": "2030-12-31",
    "data_quota_mb": "1024",
}


@PROPERTY
@given(
    order=st.permutations(IMPORT_COLUMNS),
    trailing=st.integers(min_value=0, max_value=3),
    rows_trail=st.booleans(),
    upper=st.booleans(),
    bom=st.booleans(),
)
def test_a_complete_row_under_any_header_order_and_trailing_empty_columns_is_imported_whole(
    order: list[str], trailing: int, rows_trail: bool, upper: bool, bom: bool
) -> None:
    # Excel writes the same trailing commas after the header and after every row (formatted empty columns).
    header = ",".join(c.upper() if upper else c for c in order) + "," * trailing
    line = ",".join(VALID_ROW[c] for c in order) + ("," * trailing if rows_trail else "")
    data = (codecs.BOM_UTF8 if bom else b"") + f"{header}\r\n{line}\r\n".encode()
    (row,) = parse_import(data).rows
    assert row.values == VALID_ROW
    assert row.field_count == len(IMPORT_COLUMNS)
    checked = validate_row(row)
    assert not hasattr(checked, "code"), checked  # a _ValidRow, not a RowError


@PROPERTY
@given(column=st.sampled_from(IMPORT_COLUMNS), extra=st.sampled_from([",x", ",", ",,"]), cut=st.booleans())
def test_a_row_one_cell_short_or_with_extra_cells_is_reported_not_imported(column: str, extra: str, cut: bool) -> None:
    cells = [VALID_ROW[c] for c in IMPORT_COLUMNS]
    if cut:
        cells.remove(VALID_ROW[column])  # a cell lost: every later value would land in the wrong column
        line = ",".join(cells)
    else:
        line = ",".join(cells) + extra
    (row,) = parse_import(f"{HEADER}\n{line}\n".encode()).rows
    checked = validate_row(row)
    assert (checked.field, checked.code) == ("row", "wrong_field_count")


@PROPERTY
@given(count=st.integers(min_value=0, max_value=12), limit=st.integers(min_value=1, max_value=12))
def test_the_row_limit_is_exact(count: int, limit: int) -> None:
    data = (export_header_line() + export_csv_line(VALID_ROW) * count).encode()
    try:
        parsed = parse_import(data, max_rows=limit)
    except ValidationError as exc:
        assert count > limit and exc.code == "too_many_rows"
    else:
        assert count <= limit and parsed.total == count
