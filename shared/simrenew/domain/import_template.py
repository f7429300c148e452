"""The fleet import template as an .xlsx workbook (GET /v1/imports/template.xlsx).

Chinese headers (aliases the import reads, domain/csvfile.py), the identifier and phone columns
formatted as text (Excel then keeps an ICCID's 20 digits and a TID's leading zeros as typed), the
expiry as a date cell, and one example row that imports cleanly as it is: its SN, TID and ICCID are
fresh for each download (identifiers are unique across the platform), the ICCID's check digit right.
"""

from __future__ import annotations

import io
import secrets
from datetime import date

from simrenew.domain.identifiers import luhn_check_digit

TEMPLATE_HEADER: tuple[str, ...] = (
    "序列号",
    "终端号",
    "ICCID",
    "运营商",
    "型号",
    "商户名称",
    "商户电话",
    "套餐",
    "到期日",
    "流量额度",
)
# Spreadsheet columns kept as text (SN, TID, ICCID, merchant phone: the whole column's style, so cells
# typed later are text too) and the expiry's date column.
TEXT_LETTERS: tuple[str, ...] = ("A", "B", "C", "G")
DATE_LETTER = "I"
TEXT_FORMAT = "@"
DATE_FORMAT = "yyyy/m/d"


def example_row(today: date) -> list[object]:
    """A row that imports cleanly as is: fresh identifiers, a China Mobile ICCID, an expiry next year."""
    n = secrets.randbelow(10**12)
    iccid_body = f"8986000{n:012d}"
    return [
        f"SN-EXAMPLE-{n:012d}",
        f"{n % 10**8:08d}",
        iccid_body + luhn_check_digit(iccid_body),
        "CMCC",
        "PAX A920",
        "张三便利店",
        "13812345678",
        None,
        date(today.year + 1, 12, 31),
        1024,
    ]


def template_workbook(today: date) -> bytes:
    """The workbook's bytes: a sheet 终端 with the header, the example row and text-formatted columns."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "终端"
    sheet.append(list(TEMPLATE_HEADER))
    sheet.append(example_row(today))
    for letter in TEXT_LETTERS:
        sheet.column_dimensions[letter].number_format = TEXT_FORMAT
        sheet.column_dimensions[letter].width = 24
        sheet[f"{letter}2"].number_format = TEXT_FORMAT
    sheet.column_dimensions[DATE_LETTER].width = 14
    sheet[f"{DATE_LETTER}2"].number_format = DATE_FORMAT
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
