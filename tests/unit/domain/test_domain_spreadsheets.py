"""Fleet imports from real spreadsheets (domain/csvfile.py, domain/dates.py, domain/identifiers.py and the
row check of services/imports.py): Chinese and English headers, optional columns, Excel's date forms,
ICCIDs Excel put in scientific notation, .xlsx workbooks, and exports Excel cannot damage."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any, cast

import pytest

from simrenew.domain.csvfile import (
    HEADER_ALIASES,
    IMPORT_COLUMNS,
    export_csv_line,
    export_header_line,
    parse_import,
    parse_import_file,
)
from simrenew.domain.dates import parse_sheet_date
from simrenew.domain.identifiers import luhn_check_digit
from simrenew.errors import ValidationError
from simrenew.services.imports import ImportService, _Seen
from tests.support.sheets import CHINESE_HEADER, chinese_excel_csv, excel_day, scientific, workbook_bytes

ICCID = "8986001234567890123" + luhn_check_digit("8986001234567890123")


def check(row: Any) -> Any:
    """The import's own row check (pure), fresh for each row."""
    return ImportService._validate(cast(Any, None), row, _Seen({}, {}, {}))


# --- headers --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "header",
    [
        "序列号,终端号,ICCID,运营商,型号,商户名称,商户电话,套餐,到期日,流量额度",
        "SN,TID,ICCID,Carrier,Model,Merchant_Name,Merchant_Phone,Plan_Name,Expires_On,Data_Quota_MB",
        "ＳＮ,ＴＩＤ,ＩＣＣＩＤ,运营商,机型,商户名,手机号,套餐名称,到期时间,流量额度（MB）",  # full-width
        "序列号*,终端号*,iccid*,运营商,型号,商户名称,联系电话,续费套餐,到期日期*,流量(MB)",  # template markers
    ],
    ids=["chinese", "english-title-case", "full-width", "starred"],
)
def test_chinese_english_and_full_width_headers_name_the_same_columns(header: str) -> None:
    line = f"PAX-0001,12345678,{ICCID},中国移动,PAX A920,张三便利店,13812345678,年卡,2027-01-05,1024"
    (row,) = parse_import(f"{header}\r\n{line}\r\n".encode()).rows
    assert row.values == {
        "sn": "PAX-0001",
        "tid": "12345678",
        "iccid": ICCID,
        "carrier": "中国移动",
        "model": "PAX A920",
        "merchant_name": "张三便利店",
        "merchant_phone": "13812345678",
        "plan_name": "年卡",
        "expires_on": "2027-01-05",
        "data_quota_mb": "1024",
    }


def test_every_documented_alias_names_its_column() -> None:
    for column, aliases in HEADER_ALIASES.items():
        for alias in aliases:
            base = {"sn": "sn", "iccid": "iccid", "expires_on": "expires_on"}
            base.pop("sn" if column in ("sn", "tid") else column, None)
            header = ",".join([*base.values(), alias])
            parsed = parse_import(f"{header}\r\n".encode())
            assert column in parsed.columns, (column, alias)


def test_only_an_identifier_the_iccid_and_the_expiry_are_required() -> None:
    parsed = parse_import(f"终端号,ICCID,到期日\r\n12345678,{ICCID},2027/1/5\r\n".encode())
    assert parsed.columns == {"tid", "iccid", "expires_on"}
    (row,) = parsed.rows
    valid = check(row)
    assert not hasattr(valid, "code"), valid
    assert valid.fields["sn"] == "12345678"  # no SN column: the TID stands for it
    assert valid.fields["expires_on"] == date(2027, 1, 5)
    assert valid.fields["model"] == "" and valid.fields["carrier"] == "CMCC"  # implied by the ICCID prefix
    assert set(valid.compared) == {"tid", "iccid", "expires_on"}  # the rest stays as stored


@pytest.mark.parametrize(
    ("header", "missing"),
    [("型号,ICCID,到期日", "sn (or tid)"), ("序列号,到期日", "iccid"), ("序列号,ICCID,套餐", "expires_on")],
)
def test_a_header_without_a_required_column_is_refused_naming_it(header: str, missing: str) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_import(f"{header}\r\n".encode())
    assert (exc.value.field, exc.value.code) == ("file", "missing_columns")
    assert missing in exc.value.message and "序列号" in exc.value.message


def test_row_number_and_remark_columns_are_read_past() -> None:
    text = f"序号,序列号,ICCID,到期日,备注\r\n1,PAX-0001,{ICCID},2027-01-05,老客户\r\n"
    (row,) = parse_import(text.encode("gbk")).rows
    assert (row.values["sn"], row.values["iccid"], row.field_count, row.expected_fields) == ("PAX-0001", ICCID, 5, 5)
    assert not hasattr(check(row), "code")


def test_two_aliases_of_one_column_are_a_duplicate() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_import("序列号,SN,ICCID,到期日\r\n".encode())
    assert exc.value.code == "duplicate_columns" and "sn" in exc.value.message


# --- dates ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "cell",
    [
        "2027-01-05",
        "2027-1-5",
        "2027/1/5",
        "2027/01/05",
        "2027.1.5",
        "2027年1月5日",
        "46392",
        "46392.0",
        "2027/1/5 0:00",
        "2027-01-05 00:00:00",
        "20270105",
        "２０２７/１/５",
    ],
)
def test_dates_in_every_form_excel_writes_them_are_the_same_day(cell: str) -> None:
    assert parse_sheet_date(cell, "expires_on") == date(2027, 1, 5)


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("5/1/2027", "invalid_date"),
        ("2027/2/30", "invalid_date"),
        ("2027-1/5", "invalid_date"),
        ("下个月", "invalid_date"),
        ("", "required"),
    ],
)
def test_ambiguous_or_impossible_dates_are_refused_naming_the_accepted_forms(cell: str, code: str) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_sheet_date(cell, "expires_on")
    assert (exc.value.field, exc.value.code) == ("expires_on", code)
    if code == "invalid_date" and cell != "2027/2/30":
        assert "2027/1/5" in exc.value.message and "2027年1月5日" in exc.value.message


# --- cells Excel damaged ----------------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["8.98601E+19", "8.98600123456789E+19", '"8,98601E+19"', "8.986001234567891e+19"])
def test_an_iccid_in_scientific_notation_is_explained_with_the_fix(cell: str) -> None:
    (row,) = parse_import(f"序列号,终端号,ICCID,到期日\r\nPAX-0001,12345678,{cell},2027/1/5\r\n".encode()).rows
    error = check(row)
    assert (error.field, error.code) == ("iccid", "iccid_scientific")
    assert "Excel 把 ICCID 变成了科学计数法：请把该列设为文本后重新导出" in error.message
    assert "scientific notation" in error.message and "as text" in error.message


def test_a_tid_that_lost_its_leading_zeros_says_so() -> None:
    (row,) = parse_import(f"序列号,终端号,ICCID,到期日\r\nPAX-0001,1234567,{ICCID},2027/1/5\r\n".encode()).rows
    error = check(row)
    assert (error.field, error.code) == ("tid", "invalid_tid") and "leading zeros" in error.message


def test_a_new_terminal_still_needs_its_tid_and_says_which() -> None:
    (row,) = parse_import(f"序列号,ICCID,到期日\r\nPAX-0001,{ICCID},2027/1/5\r\n".encode()).rows
    valid = check(row)
    assert valid.fields["tid"] is None and "tid" not in valid.compared  # the stored TID is kept on update


# --- the Chinese Excel CSV and the workbook ------------------------------------------------------
def _sheet_rows() -> list[list[str]]:
    return [
        [
            "PAX-0001",
            "00012345",
            ICCID,
            "移动",
            "PAX A920",
            "深圳华强北数码便利店",
            "13812345678",
            "年卡",
            excel_day(date(2027, 1, 5)),
            "1024",
        ],
        ["PAX-0002", "12345679", scientific(ICCID), "", "", "", "", "", excel_day(date(2027, 12, 31)), ""],
    ]


def test_a_csv_saved_by_chinese_excel_parses_row_by_row() -> None:
    data = chinese_excel_csv(_sheet_rows())
    assert not data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data and "商户".encode("gbk") in data  # the shape
    first, second = parse_import(data).rows
    ok = check(first)
    assert ok.fields["expires_on"] == date(2027, 1, 5) and ok.merchant == ("深圳华强北数码便利店", "+8613812345678")
    assert ok.fields["tid"] == "00012345"
    bad = check(second)
    assert (bad.row, bad.field, bad.code) == (3, "iccid", "iccid_scientific")


def test_an_xlsx_workbook_is_read_directly_with_numbers_and_dates_as_excel_stores_them() -> None:
    data = workbook_bytes(
        [
            [
                "PAX-0001",
                "00012345",
                ICCID,
                "中国移动",
                "PAX A920",
                "张三便利店",
                13812345678,
                "年卡",
                datetime(2027, 1, 5),
                1024,
            ],
            ["PAX-0002", 12345679, float(ICCID), None, None, None, None, None, 46752, None],  # ICCID typed as a number
            [None] * 10,  # a formatted but empty row
            ["PAX-0003", "12345680", ICCID[:-1] + "0", None, None, None, None, None, "2027年1月5日", None],
        ]
    )
    assert data.startswith(b"PK\x03\x04")
    rows = parse_import(data).rows
    assert [r.row for r in rows] == [2, 3, 5]  # sheet row numbers, the empty row skipped
    first = rows[0]
    assert first.values["merchant_phone"] == "13812345678" and first.values["expires_on"] == "2027-01-05"
    assert first.values["data_quota_mb"] == "1024" and first.field_count is None
    assert not hasattr(check(first), "code")
    second = check(rows[1])
    assert (second.field, second.code) == ("iccid", "iccid_scientific")
    assert rows[1].values["tid"] == "12345679" and rows[1].values["expires_on"] == "46752"
    assert check(rows[2]).code in ("iccid_checksum", "invalid_iccid")


def test_a_workbook_streams_from_a_binary_file_like() -> None:
    data = workbook_bytes([["PAX-0001", "12345678", ICCID, None, None, None, None, None, "2027/1/5", None]])
    parsed = parse_import_file(io.BytesIO(data))
    assert parsed.total == 1 and parsed.rows[0].values["sn"] == "PAX-0001"
    assert parse_import_file(io.BytesIO(chinese_excel_csv(_sheet_rows()))).total == 2


@pytest.mark.parametrize(
    "data",
    [b"PK\x03\x04not really a zip", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old xls"],
    ids=["broken-xlsx", "old-xls"],
)
def test_workbooks_that_cannot_be_read_are_refused_as_a_file_error(data: bytes) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_import(data)
    assert (exc.value.field, exc.value.code) == ("file", "invalid_encoding")


# --- exports Excel keeps as text -------------------------------------------------------------------
def test_exported_identifiers_and_phones_are_text_for_excel_and_import_back_unchanged() -> None:
    row = dict.fromkeys(IMPORT_COLUMNS, "") | {
        "sn": "00012345",
        "tid": "00012345",
        "iccid": ICCID,
        "merchant_phone": "+8613812345678",
        "expires_on": "2027-01-05",
        "model": "PAX",
    }
    line = export_csv_line(row)
    assert f'"=""{ICCID}"""' in line and '"=""00012345"""' in line and '"=""+8613812345678"""' in line
    (back,) = parse_import((export_header_line() + line).encode()).rows
    assert back.values == row


def test_the_consoles_template_row_is_valid_as_is() -> None:
    # frontend/src/console/views/Imports.tsx: the template a user downloads must import without an edit.
    from pathlib import Path

    source = (Path(__file__).resolve().parents[3] / "frontend/src/console/views/Imports.tsx").read_text()
    header = source.split('IMPORT_HEADER = "', 1)[1].split('"', 1)[0]
    example = source.split('EXAMPLE_ROW = "', 1)[1].split('"', 1)[0]
    (row,) = parse_import(f"{header}\r\n{example}\r\n".encode()).rows
    valid = check(row)
    assert not hasattr(valid, "code"), valid
    # The Chinese header the page shows beside it names the same columns, in the same order.
    chinese = source.split('IMPORT_HEADER_ZH = "', 1)[1].split('"', 1)[0]
    assert chinese.split(",") == CHINESE_HEADER
    (same,) = parse_import(f"{chinese}\r\n{example}\r\n".encode("gbk")).rows
    assert same.values == row.values
