"""Fleet CSV decoding, header and row parsing, and injection-safe export lines."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simrenew.domain.csvfile import (
    IMPORT_COLUMNS,
    RawRow,
    decode_csv_bytes,
    export_csv_line,
    export_header_line,
    parse_import,
)
from simrenew.errors import ValidationError
from tests.support.outcomes import value_or_refusal

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HEADER = ",".join(IMPORT_COLUMNS)


def fleet_row(**overrides: str) -> dict[str, str]:
    """A complete import row; tests override only what they are about."""
    row = {
        "sn": "PAX-A920-0001",
        "tid": "12345678",
        "iccid": "89860012345678901234",
        "carrier": "中国移动",
        "model": "PAX A920",
        "merchant_name": "张三便利店",
        "merchant_phone": "13812345678",
        "plan_name": "年卡 12个月",
        "expires_on": "2025-12-31",
        "data_quota_mb": "1024",
    }
    row.update(overrides)
    return row


def csv_text(rows: list[dict[str, str]], header: str = HEADER, newline: str = "\r\n") -> str:
    lines = [header] + [export_csv_line(row).rstrip("\r\n") for row in rows]
    return newline.join(lines) + newline


def assert_file_error(exc: pytest.ExceptionInfo[ValidationError], code: str) -> None:
    assert (exc.value.field, exc.value.code) == ("file", code)
    assert exc.value.message


# --- decoding ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-8"),
        lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
        lambda text: text.encode("gbk"),
        lambda text: text.encode("gb18030"),
    ],
    ids=["utf-8", "utf-8-bom", "gbk", "gb18030"],
)
def test_csv_saved_by_excel_in_utf8_or_gbk_decodes_to_the_same_text(encode: object) -> None:
    text = "sn,merchant_name\r\nABC123,张三便利店\r\n"
    assert decode_csv_bytes(encode(text)) == text  # type: ignore[operator]


@pytest.mark.parametrize(
    "data",
    [
        codecs.BOM_UTF16_LE + "sn,tid\r\n".encode("utf-16-le"),
        codecs.BOM_UTF16_BE + "sn,tid\r\n".encode("utf-16-be"),
        b"sn,tid\r\n\x80\xff\xfe",  # neither UTF-8 nor GB18030
        codecs.BOM_UTF8 + b"sn\r\n\xc3\x28",  # declared UTF-8, but broken
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00",  # an .xlsx renamed to .csv
    ],
    ids=["utf-16-le", "utf-16-be", "garbage", "broken-utf-8-bom", "xlsx"],
)
def test_bytes_that_are_not_utf8_or_gbk_text_are_rejected_as_invalid_encoding(data: bytes) -> None:
    with pytest.raises(ValidationError) as exc:
        decode_csv_bytes(data)
    assert_file_error(exc, "invalid_encoding")


@pytest.mark.parametrize("data", [b"", codecs.BOM_UTF8, b" \r\n\r\n\t"], ids=["empty", "bom-only", "blank"])
def test_a_file_without_content_is_rejected_as_empty(data: bytes) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_import(data)
    assert_file_error(exc, "empty_file")


# --- header -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        HEADER,
        ",".join(reversed(IMPORT_COLUMNS)),
        ",".join(f" {column.upper()} " for column in IMPORT_COLUMNS),
        HEADER + ",,",  # trailing empty header cells Excel leaves behind
    ],
    ids=["exact", "reordered", "upper-case-padded", "trailing-empty-cells"],
)
def test_header_in_any_order_or_case_maps_cells_to_their_columns(header: str) -> None:
    columns = [cell.strip().lower() for cell in header.split(",")]
    row = fleet_row()
    line = ",".join(row.get(column, "") for column in columns)
    parsed = parse_import(f"{header}\n{line}\n".encode())
    assert parsed.rows == [RawRow(row=2, values=row)]


@pytest.mark.parametrize(
    ("data", "code", "named"),
    [
        (
            ",".join(c for c in IMPORT_COLUMNS if c not in {"sn", "tid", "expires_on"}) + "\n",
            "missing_columns",
            ["sn (or tid), expires_on"],
        ),
        # a misspelt column: both the missing and the unknown one are named
        (HEADER.replace("iccid", "icid"), "missing_columns", ["iccid", "icid"]),
        (f"{HEADER},shop_code\n", "unknown_columns", ["shop_code"]),
        (f"{HEADER},SN\n", "duplicate_columns", ["sn"]),
    ],
    ids=["missing-required", "misspelt", "extra-column", "repeated-column"],
)
def test_a_bad_header_is_rejected_naming_its_columns(data: str, code: str, named: list[str]) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_import(data.encode())
    assert_file_error(exc, code)
    for column in named:
        assert column in exc.value.message


def test_header_only_file_has_no_rows() -> None:
    parsed = parse_import(f"{HEADER}\r\n".encode())
    assert (parsed.rows, parsed.total) == ([], 0)


# --- rows -------------------------------------------------------------------------------------


def test_rows_are_numbered_by_their_line_in_the_file_skipping_blank_lines() -> None:
    text = (
        f"{HEADER}\n"
        + export_csv_line(fleet_row(sn="ROW002"))
        + "\n,,,,,,,,,\n"
        + export_csv_line(fleet_row(sn="ROW005"))
    )
    parsed = parse_import(text.encode())
    assert [(r.row, r.values["sn"]) for r in parsed.rows] == [(2, "ROW002"), (5, "ROW005")]
    assert parsed.total == 2


def test_a_quoted_cell_spanning_lines_keeps_its_line_break_and_later_rows_keep_their_line_numbers() -> None:
    text = csv_text([fleet_row(sn="ROW002", model="PAX\nA920"), fleet_row(sn="ROW004")])
    parsed = parse_import(text.encode())
    assert parsed.rows[0].values["model"] == "PAX\nA920"
    assert [r.row for r in parsed.rows] == [2, 4]


def test_cells_with_commas_and_quotes_are_read_back_whole() -> None:
    row = fleet_row(merchant_name='张三便利店, "总店"')
    parsed = parse_import(csv_text([row]).encode("gbk"))
    assert parsed.rows[0].values == row


def test_a_short_row_is_kept_with_empty_values_and_its_field_count() -> None:
    parsed = parse_import(f"{HEADER}\nABC123,12345678\n".encode())
    (row,) = parsed.rows
    assert row.values == dict.fromkeys(IMPORT_COLUMNS, "") | {"sn": "ABC123", "tid": "12345678"}
    assert row.field_count == 2


def test_a_long_row_is_kept_with_its_field_count_so_the_validator_can_report_it() -> None:
    parsed = parse_import((csv_text([fleet_row()]).rstrip() + ",extra\r\n").encode())
    assert parsed.rows[0].values == fleet_row()
    assert parsed.rows[0].field_count == len(IMPORT_COLUMNS) + 1


def test_rows_ending_in_the_empty_cells_of_a_header_with_trailing_commas_count_as_complete() -> None:
    # Found by tests/unit/domain/test_properties_csv.py: Excel writes ",," after the header and after every
    # row alike; the row validator then refused every row as "12 fields, not 10".
    line = export_csv_line(fleet_row()).rstrip("\r\n")
    parsed = parse_import(f"{HEADER},,\r\n{line},,\r\n{line}\r\n{line},,x\r\n".encode())
    assert [r.field_count for r in parsed.rows] == [len(IMPORT_COLUMNS), len(IMPORT_COLUMNS), 12]
    assert all(r.values == fleet_row() for r in parsed.rows)


def test_a_file_at_the_row_limit_is_accepted() -> None:
    parsed = parse_import(csv_text([fleet_row()] * 3).encode(), max_rows=3)
    assert parsed.total == 3


def test_a_file_over_the_row_limit_is_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_import(csv_text([fleet_row()] * 4).encode(), max_rows=3)
    assert_file_error(exc, "too_many_rows")


def test_a_cell_larger_than_csv_allows_is_rejected_as_malformed() -> None:
    data = f'{HEADER}\n"{"x" * 200_000}"\n'.encode()
    with pytest.raises(ValidationError) as exc:
        parse_import(data)
    assert_file_error(exc, "malformed_csv")


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"], ids=["crlf", "lf", "cr"])
def test_any_line_ending_gives_the_same_rows(newline: str) -> None:
    rows = [fleet_row(sn="ROW002"), fleet_row(sn="ROW003")]
    parsed = parse_import(csv_text(rows, newline=newline).encode())
    assert [r.values for r in parsed.rows] == rows


# --- export -----------------------------------------------------------------------------------


def test_export_line_follows_the_import_column_order_and_ends_with_crlf() -> None:
    line = export_csv_line({"tid": "12345678", "sn": "ABC123", "model": "PAX", "unrelated": "x"})
    assert line == '"=""ABC123""","=""12345678""",,,PAX' + "," * (len(IMPORT_COLUMNS) - 5) + "\r\n"


def test_export_header_and_lines_import_back_unchanged() -> None:
    rows = [fleet_row(sn="ROW002"), fleet_row(sn="ROW003", merchant_name='李四, "五金"', model="")]
    data = (export_header_line() + "".join(export_csv_line(row) for row in rows)).encode()
    assert [r.values for r in parse_import(data).rows] == rows


@pytest.mark.parametrize(
    ("cell", "exported"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("-5", "-5"),
        ("-1.5", "-1.5"),
        ("+8613812345678", "+8613812345678"),
        ("张三=便利店", "张三=便利店"),
        ("PAX-A920", "PAX-A920"),
    ],
)
def test_export_defuses_cells_a_spreadsheet_would_evaluate_but_leaves_plain_numbers(cell: str, exported: str) -> None:
    line = export_csv_line({"model": cell})
    parsed = parse_import((export_header_line() + line).encode())
    assert parsed.rows[0].values["model"] == exported


# --- properties -------------------------------------------------------------------------------

header_then_bytes = st.binary(max_size=300).map(lambda tail: HEADER.encode() + b"\r\n" + tail)


@PROPERTY
@given(data=st.one_of(st.binary(max_size=300), header_then_bytes))
def test_any_bytes_parse_or_are_rejected_with_a_validation_error(data: bytes) -> None:
    parsed = value_or_refusal(lambda: parse_import(data), field="file")
    if parsed is None:
        return
    assert parsed.total == len(parsed.rows)
    assert all(set(r.values) == set(IMPORT_COLUMNS) for r in parsed.rows)


# Characters GBK can encode: ASCII letters, digits, and the CJK unified ideographs it covers.
gbk_text = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5),
        st.sampled_from("abcXYZ0189 -,\"'"),
    ),
    max_size=12,
)


@PROPERTY
@given(names=st.lists(gbk_text.map(lambda name: "张三便利店" + name), min_size=1, max_size=5))
def test_utf8_bom_and_gbk_files_with_chinese_merchant_names_parse_to_identical_rows(names: list[str]) -> None:
    text = csv_text([fleet_row(sn=f"ROW{i:03}", merchant_name=name) for i, name in enumerate(names)])
    from_bom = parse_import(codecs.BOM_UTF8 + text.encode("utf-8"))
    from_gbk = parse_import(text.encode("gbk"))
    assert from_bom == from_gbk
    assert [r.values["merchant_name"] for r in from_gbk.rows] == names


# Any text a cell may hold and that export does not need to defuse.
cell_text = st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=15).filter(
    lambda cell: not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
)


@PROPERTY
@given(rows=st.lists(st.fixed_dictionaries({column: cell_text for column in IMPORT_COLUMNS}), max_size=4))
def test_exported_rows_import_back_unchanged(rows: list[dict[str, str]]) -> None:
    data = (export_header_line() + "".join(export_csv_line(row) for row in rows)).encode()
    kept = [row for row in rows if any(cell.strip() for cell in row.values())]  # all-blank rows are skipped
    assert [r.values for r in parse_import(data).rows] == kept
