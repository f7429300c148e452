"""Fleet import files as agents really have them, and export lines Excel cannot damage.

Imports: CSV (UTF-8 with or without BOM, or GBK/GB18030 as Chinese Excel saves it) or an .xlsx workbook
(its first sheet, read with openpyxl); headers in English or Chinese through documented aliases, case,
full-width and punctuation insensitive; only an identifier (SN or TID), the ICCID and the expiry are
required columns. This module turns a file into raw rows keyed by column; rows are validated elsewhere
(services/imports.py with domain/fleet.py), where cells are diagnosed (dates, ICCIDs Excel mangled).
Entry points: `parse_import(bytes)`, `parse_import_file(binary file-like)` and `parse_records(rows)` for
any iterator of already split records (a streaming reader hands its rows there).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import IO

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
# A row needs the ICCID, the expiry and at least one of SN and TID; every other column is optional.
REQUIRED_COLUMNS: tuple[str, ...] = ("iccid", "expires_on")
IDENTIFIER_COLUMNS: tuple[str, ...] = ("sn", "tid")

# Accepted header names per column (documented in docs/spreadsheets-and-roles.md). Compared after
# _fold: NFKC (full-width ＳＮ, （） become ASCII), case-folded, without spaces, underscores, dashes,
# brackets, colons, dots and the "*" templates put on required columns. So "到期日（必填）" is not
# an alias but "到期日*", "Expires_On", "ＩＣＣＩＤ" and "流量额度(MB)" all are.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "sn": (
        "sn",
        "序列号",
        "sn号",
        "终端序列号",
        "机身序列号",
        "设备序列号",
        "机具序列号",
        "终端sn",
        "serial",
        "serial number",
        "serial no",
    ),
    "tid": ("tid", "终端号", "终端编号", "终端id", "pos终端号", "terminal id", "terminal no"),
    "iccid": ("iccid", "iccid号", "sim卡号", "流量卡号", "物联网卡号", "卡号", "sim iccid"),
    "carrier": ("carrier", "运营商", "网络运营商", "operator"),
    "model": ("model", "型号", "机型", "终端型号", "设备型号"),
    "merchant_name": ("merchant_name", "merchant", "商户名称", "商户名", "商户", "店铺名称", "门店名称"),
    "merchant_phone": (
        "merchant_phone",
        "商户电话",
        "商户手机号",
        "商户手机",
        "手机号",
        "手机号码",
        "联系电话",
        "电话",
        "phone",
        "mobile",
    ),
    "plan_name": ("plan_name", "plan", "套餐", "套餐名称", "续费套餐"),
    "expires_on": (
        "expires_on",
        "expiry",
        "expiry date",
        "expires",
        "expiration date",
        "到期日",
        "到期时间",
        "到期日期",
        "有效期至",
        "截止日期",
    ),
    "data_quota_mb": ("data_quota_mb", "quota", "data quota", "流量额度", "流量额度mb", "流量mb", "流量", "套餐流量"),
}
# Columns spreadsheets carry that mean nothing to an import: read past, never an error.
IGNORED_HEADERS: tuple[str, ...] = (
    "序号",
    "编号",
    "行号",
    "备注",
    "说明",
    "no",
    "#",
    "index",
    "remark",
    "remarks",
    "note",
    "notes",
)
_IGNORED = "#ignored"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls (OLE2)
# A 10 MB workbook may unzip to far more; past this it is refused before any XML is read.
MAX_XLSX_UNZIPPED = 200 * 1024 * 1024
# The ="..." wrapper exports put on text columns (see _excel_text), unwrapped on import.
_EXCEL_TEXT_RE = re.compile(r'="((?:[^"]|"")*)"', re.DOTALL)

# Excel's "Unicode text" export is UTF-16: name it rather than failing with a generic message.
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_SIGNED_NUMBER_RE = re.compile(r"[+-][0-9]+(?:\.[0-9]+)?")
# Spreadsheet apps evaluate a cell starting with these; tab and CR are on OWASP's list too.
_FORMULA_TRIGGERS = ("=", "@", "\t", "\r")


def _fold(header: str) -> str:
    folded = unicodedata.normalize("NFKC", header).casefold()
    return re.sub(r"[\s_\-()\[\]【】:.*]", "", folded)


_ALIAS_COLUMN: dict[str, str] = {_fold(alias): column for column, names in HEADER_ALIASES.items() for alias in names}
_IGNORED_FOLDED = frozenset(_fold(name) for name in IGNORED_HEADERS)


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
    # How many fields the header has (the count a complete record has), and the columns it names:
    # a column the file lacks is "" in `values` and must leave a stored terminal's value alone.
    expected_fields: int = field(default=len(IMPORT_COLUMNS), compare=False)
    present: frozenset[str] = field(default=frozenset(IMPORT_COLUMNS), compare=False)


@dataclass(frozen=True)
class ParsedImport:
    rows: list[RawRow]
    total: int  # data rows, blank lines excluded
    columns: frozenset[str] = frozenset(IMPORT_COLUMNS)  # the import columns the header names


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


def _header_columns(record: Sequence[str]) -> list[str]:
    """The import column of each header cell ("" for an empty cell, _IGNORED for a 序号 or 备注)."""
    columns: list[str] = []
    unknown: list[str] = []
    for cell in record:
        folded = _fold(cell)
        if not folded:
            columns.append("")
        elif folded in _IGNORED_FOLDED:
            columns.append(_IGNORED)
        elif folded in _ALIAS_COLUMN:
            columns.append(_ALIAS_COLUMN[folded])
        else:
            columns.append(_IGNORED)
            unknown.append(cell.strip())
    named = [column for column in columns if column and column != _IGNORED]
    duplicates = sorted({column for column in named if named.count(column) > 1})
    if duplicates:
        raise ValidationError(
            "file",
            "duplicate_columns",
            f"the header names these columns twice (or by two aliases): {', '.join(duplicates)}",
        )
    missing = [column for column in REQUIRED_COLUMNS if column not in named]
    if not any(column in named for column in IDENTIFIER_COLUMNS):
        missing.insert(0, "sn (or tid)")
    optional = [c for c in IMPORT_COLUMNS if c not in (*REQUIRED_COLUMNS, *IDENTIFIER_COLUMNS)]
    expected = f"required: sn (序列号) or tid (终端号), iccid, expires_on (到期日); optional: {', '.join(optional)}"
    if missing:
        message = f"the header lacks the columns: {', '.join(missing)}"
        if unknown:
            message += f" (and has unknown ones: {', '.join(unknown)})"
        raise ValidationError("file", "missing_columns", f"{message}; {expected}")
    if unknown:
        raise ValidationError(
            "file",
            "unknown_columns",
            f"the header has unknown columns: {', '.join(unknown)}; {expected} (序号 and 备注 columns are ignored)",
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
    """Decode and split a fleet import (CSV or .xlsx) into raw rows keyed by column; only ever raises
    ValidationError."""
    if data.startswith(_XLSX_MAGIC):
        return parse_records(xlsx_records(io.BytesIO(data)), max_rows, positional=True)
    if data.startswith(_XLS_MAGIC):
        raise ValidationError(
            "file", "invalid_encoding", "this is an old Excel .xls workbook: save it as .xlsx or CSV and retry"
        )
    return parse_records(csv_records(decode_csv_bytes(data)), max_rows)


def parse_import_file(source: IO[bytes], max_rows: int = DEFAULT_MAX_ROWS) -> ParsedImport:
    """The same from a binary file-like (an upload being read, an S3 body). An .xlsx is read from it
    directly when it can seek (openpyxl needs to), else from its bytes."""
    head = source.read(4)
    if head == _XLSX_MAGIC and getattr(source, "seekable", lambda: False)():
        source.seek(0)
        return parse_records(xlsx_records(source), max_rows, positional=True)
    return parse_import(head + source.read(), max_rows)


def csv_records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, its cells) for each CSV record; raises ValidationError on bad CSV."""
    # newline="" keeps line endings inside quoted cells, as the csv module requires.
    reader = csv.reader(io.StringIO(text, newline=""))
    next_line = 1
    try:
        for record in reader:
            start_line = next_line
            next_line = reader.line_num + 1
            yield start_line, [_unwrap_excel_text(cell) for cell in record]
    except csv.Error as exc:
        raise ValidationError(
            "file", "malformed_csv", f"the file is not valid CSV near line {reader.line_num}: {exc}"
        ) from None


def xlsx_records(source: IO[bytes]) -> Iterator[tuple[int, list[str]]]:
    """(sheet row number, its cells as text) for each row of the workbook's first sheet."""
    try:
        with zipfile.ZipFile(source) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
        source.seek(0)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ValidationError(
            "file", "invalid_encoding", "the file looks like a workbook but cannot be opened"
        ) from None
    if unzipped > MAX_XLSX_UNZIPPED:
        raise ValidationError("file", "file_too_large", "the workbook is too large once unzipped; split it")
    # Imported here: openpyxl is large and only workbook imports need it.
    from openpyxl import load_workbook

    try:
        # read_only streams the sheet; data_only gives a formula's cached value, never the formula.
        workbook = load_workbook(source, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any failure to open the workbook is the file's, told as such
        raise ValidationError(
            "file", "invalid_encoding", "the workbook cannot be read: save it again as .xlsx or CSV"
        ) from None
    try:
        sheet = workbook.worksheets[0]
        # read-only sheets yield every row from the first, empty ones included: the count is the row number.
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [sheet_cell_text(value) for value in values]
    except ValidationError:
        raise
    except Exception:  # noqa: BLE001 - a damaged sheet part: the file's fault, not ours
        raise ValidationError("file", "invalid_encoding", "the workbook's first sheet cannot be read") from None
    finally:
        workbook.close()


def sheet_cell_text(value: object) -> str:
    """A workbook cell as the text a CSV export would hold: dates as YYYY-MM-DD, whole numbers without
    ".0", other numbers in Python's shortest form (an ICCID Excel stored as a number comes out as
    "8.986001234567891e+19", which the row check recognises and explains)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Below 2**53 a whole float is exact; above it the digits are already lost (an ICCID).
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return repr(value)
    return str(value)


def _unwrap_excel_text(cell: str) -> str:
    match = _EXCEL_TEXT_RE.fullmatch(cell)
    return match.group(1).replace('""', '"') if match else cell


def parse_records(
    records: Iterable[tuple[int, Sequence[str]]], max_rows: int = DEFAULT_MAX_ROWS, *, positional: bool = False
) -> ParsedImport:
    """Header and rows from (line number, cells) records. `positional` records (workbook rows) have no
    field count: a sheet row has every column of the header whether or not its last cells are empty."""
    columns: list[str] | None = None
    present: frozenset[str] = frozenset()
    width = 0
    rows: list[RawRow] = []
    for line, record in records:
        if _is_blank(list(record)):
            continue
        if columns is None:
            columns = _header_columns(record)
            present = frozenset(c for c in columns if c and c != _IGNORED)
            width = max(i for i, column in enumerate(columns) if column) + 1
            continue
        if len(rows) >= max_rows:
            # Stop at once: the work done on a file is bounded by the limit, not the upload.
            raise ValidationError(
                "file", "too_many_rows", f"the file has more than {max_rows} rows: split it and retry"
            )
        values = dict.fromkeys(IMPORT_COLUMNS, "")
        for column, cell in zip(columns, record, strict=False):
            if column and column != _IGNORED:
                values[column] = cell
        count = None if positional else _field_count(list(record), columns)
        rows.append(RawRow(row=line, values=values, field_count=count, expected_fields=width, present=present))
    if columns is None:
        raise ValidationError("file", "empty_file", "the file is empty")
    return ParsedImport(rows=rows, total=len(rows), columns=present)


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


# Columns Excel would turn into numbers when it opens the CSV: an ICCID becomes 8.98601E+19 (its last
# digits lost for good), a TID loses its leading zeros, "+8613812345678" becomes 8.61381E+12, an SN
# such as "1E5" or "2027-01" a number or a date.
TEXT_COLUMNS: tuple[str, ...] = ("sn", "tid", "iccid", "merchant_phone")


def excel_text(value: str) -> str:
    """A cell Excel keeps as text when it opens the CSV: the formula ="...", which Excel (and LibreOffice,
    Numbers, WPS) evaluates to that very string. A leading apostrophe is shown as part of the cell
    in a CSV (it only means "text" when typed), and a leading tab keeps the digits but leaves the tab in
    the cell and in the next export; the formula is what Excel honours cleanly. Our import unwraps it.
    Only our own validated identifiers are wrapped, so no user text becomes a formula."""
    if not value:
        return value
    return '="' + value.replace('"', '""') + '"'


def export_csv_line(values: dict[str, str]) -> str:
    """One CSV record (ending in CRLF) in IMPORT_COLUMNS order; missing keys are empty, extra keys ignored.
    The TEXT_COLUMNS are written as ="..." so Excel keeps their digits."""
    return _csv_line(
        [excel_text(values.get(c, "")) if c in TEXT_COLUMNS else _safe_cell(values.get(c, "")) for c in IMPORT_COLUMNS]
    )
