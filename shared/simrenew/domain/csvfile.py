"""Fleet CSV files: decoding (UTF-8 with or without BOM, or GBK/GB18030 from Excel in China), header
and row parsing of imports, and injection-safe export lines. Rows are validated elsewhere."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from simrenew.errors import ValidationError

IMPORT_COLUMNS: tuple[str, ...] = (
    "sn",
    "tid",
    "iccid",
    "carrier",
    "model",
    "merchant_name",
    "merchant_phone",
    "plan_name",
    "expires_on",
    "data_quota_mb",
)
DEFAULT_MAX_ROWS = 100_000

# Excel's "Unicode text" export is UTF-16: name it rather than failing with a generic message.
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_SIGNED_NUMBER_RE = re.compile(r"[+-][0-9]+(?:\.[0-9]+)?")
# Spreadsheet apps evaluate a cell starting with these; tab and CR are on OWASP's list too.
_FORMULA_TRIGGERS = ("=", "@", "\t", "\r")


@dataclass(frozen=True)
class RawRow:
    """One data record as read, before validation.

    `row` is the physical line number in the file where the record starts, the header being line 1,
    so the first data row is row 2: the spreadsheet's row number for ordinary files. After a quoted cell
    spanning lines it follows the text file's lines instead. `values` has every import column, "" where
    the record was too short. `field_count` is how many fields the record had (None for rows built by hand),
    so the row validator can report records that are too short or too long; empty cells under the unnamed
    trailing header cells Excel leaves behind are not counted.
    """

    row: int
    values: dict[str, str]
    field_count: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ParsedImport:
    rows: list[RawRow]
    total: int  # data rows, blank lines excluded


def decode_csv_bytes(data: bytes) -> str:
    """The text of an uploaded CSV: UTF-8 (BOM optional), else GB18030 (a superset of GBK)."""
    if not data:
        raise ValidationError("file", "empty_file", "the file is empty")
    if data.startswith(_UTF16_BOMS):
        raise ValidationError(
            "file", "invalid_encoding", "the file is UTF-16: save it as CSV (UTF-8) or CSV (GBK) and retry"
        )
    try:
        # utf-8-sig drops a leading BOM (Excel's "CSV UTF-8") and is plain UTF-8 otherwise.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        if data.startswith(codecs.BOM_UTF8):
            # A BOM declares UTF-8; guessing another encoding would only produce garbage.
            raise ValidationError(
                "file", "invalid_encoding", "the file says it is UTF-8 but contains invalid bytes"
            ) from None
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise ValidationError(
                "file", "invalid_encoding", "the file is neither UTF-8 nor GBK text: save it as CSV and retry"
            ) from None
    # NUL never occurs in text; it means a binary upload (an .xlsx renamed to .csv, for instance).
    if "\x00" in text:
        raise ValidationError(
            "file", "invalid_encoding", "the file is not text (is it an Excel workbook?): save it as CSV"
        )
    if not text.strip():
        raise ValidationError("file", "empty_file", "the file is empty")
    return text


def _is_blank(record: list[str]) -> bool:
    # Excel writes ",,,,,,,,," for rows that merely had formatting; those count as blank lines.
    return all(not cell.strip() for cell in record)


def _header_columns(record: list[str]) -> list[str]:
    columns = [cell.strip().lower() for cell in record]
    named = [column for column in columns if column]
    duplicates = sorted({column for column in named if named.count(column) > 1})
    if duplicates:
        raise ValidationError("file", "duplicate_columns", f"the header repeats the columns: {', '.join(duplicates)}")
    missing = [column for column in IMPORT_COLUMNS if column not in named]
    unknown = [column for column in named if column not in IMPORT_COLUMNS]
    if missing:
        message = f"the header lacks the columns: {', '.join(missing)}"
        if unknown:
            message += f" (and has unknown ones: {', '.join(unknown)})"
        raise ValidationError("file", "missing_columns", f"{message}; expected: {','.join(IMPORT_COLUMNS)}")
    if unknown:
        raise ValidationError(
            "file",
            "unknown_columns",
            f"the header has unknown columns: {', '.join(unknown)}; expected: {','.join(IMPORT_COLUMNS)}",
        )
    # Unnamed header cells (trailing commas Excel leaves behind) are kept as "" and their values dropped.
    return columns


def _field_count(record: list[str], columns: list[str]) -> int:
    """The record's fields, without the empty ones under unnamed trailing header cells: when Excel writes
    ",," after the header it writes them after every row too, and those rows are complete (counting them
    made every row of such a file fail as "12 fields, not 10": found by a property test)."""
    named = max(i for i, column in enumerate(columns) if column) + 1
    count = len(record)
    while named < count <= len(columns) and not columns[count - 1] and not record[count - 1].strip():
        count -= 1
    return count


def parse_import(data: bytes, max_rows: int = DEFAULT_MAX_ROWS) -> ParsedImport:
    """Decode and split a fleet import into raw rows keyed by column; only ever raises ValidationError."""
    text = decode_csv_bytes(data)
    # newline="" keeps line endings inside quoted cells, as the csv module requires.
    rows = list(iter_import_rows(io.StringIO(text, newline=""), max_rows))
    return ParsedImport(rows=rows, total=len(rows))


def iter_import_rows(lines: Iterable[str], max_rows: int = DEFAULT_MAX_ROWS) -> Iterator[RawRow]:
    """The raw rows of decoded CSV text given line by line (a file opened with newline="", or a
    stream decoded piece by piece), one at a time: a large upload is never held in memory. Raises
    ValidationError (header, too many rows, malformed CSV, empty) where the problem is met."""
    reader = csv.reader(lines)
    columns: list[str] | None = None
    count = 0
    try:
        next_line = 1
        for record in reader:
            start_line = next_line
            next_line = reader.line_num + 1
            if _is_blank(record):
                continue
            if columns is None:
                columns = _header_columns(record)
                continue
            if count >= max_rows:
                # Stop at once: the work done on a file is bounded by the limit, not the upload.
                raise ValidationError(
                    "file", "too_many_rows", f"the file has more than {max_rows} rows: split it and retry"
                )
            values = dict.fromkeys(IMPORT_COLUMNS, "")
            for column, cell in zip(columns, record, strict=False):
                if column:
                    values[column] = cell
            count += 1
            yield RawRow(row=start_line, values=values, field_count=_field_count(record, columns))
    except csv.Error as exc:
        raise ValidationError(
            "file", "malformed_csv", f"the file is not valid CSV near line {reader.line_num}: {exc}"
        ) from None
    if columns is None:
        raise ValidationError("file", "empty_file", "the file is empty")


def _safe_cell(value: str) -> str:
    # A leading apostrophe makes spreadsheets show the cell as text instead of evaluating it.
    # Signed plain numbers ("-5", "+8613812345678") are left alone: they cannot run anything.
    if value.startswith(_FORMULA_TRIGGERS):
        return "'" + value
    if value.startswith(("+", "-")) and not _SIGNED_NUMBER_RE.fullmatch(value):
        return "'" + value
    return value


def _csv_line(cells: list[str]) -> str:
    buffer = io.StringIO()
    # "\r\n" is what RFC 4180 and Excel expect between records.
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()


def export_header_line() -> str:
    """The header line of an export, which an import accepts as is."""
    return _csv_line(list(IMPORT_COLUMNS))


def export_csv_line(values: dict[str, str]) -> str:
    """One CSV record (ending in CRLF) in IMPORT_COLUMNS order; missing keys are empty, extra keys ignored."""
    return _csv_line([_safe_cell(values.get(column, "")) for column in IMPORT_COLUMNS])
