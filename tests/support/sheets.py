"""Files in the exact shapes agents' spreadsheet programs write: a workbook made by openpyxl (as Excel
stores it: numbers as numbers, dates as date cells) and the CSV Chinese Excel saves ("CSV (逗号分隔)":
GBK without a BOM, CRLF, dates as 2027/1/5, long numbers in scientific notation)."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

CHINESE_HEADER = ["序列号", "终端号", "ICCID", "运营商", "型号", "商户名称", "商户电话", "套餐", "到期日", "流量额度"]


def excel_day(d: date) -> str:
    """A date as Chinese Excel's default short format writes it to CSV: 2027/1/5."""
    return f"{d.year}/{d.month}/{d.day}"


def scientific(iccid: str) -> str:
    """What Excel shows and saves for a 20-digit number in a General cell: 8.98601E+19."""
    mantissa, exponent = f"{float(iccid):.5E}".split("E")
    return f"{mantissa.rstrip('0').rstrip('.')}E{exponent}"


def chinese_excel_csv(rows: list[list[str]], header: list[str] = CHINESE_HEADER) -> bytes:
    """GBK bytes, no BOM, CRLF after every record (the last too), no quoting unless needed."""
    lines = [",".join(header), *(",".join(row) for row in rows)]
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


def workbook_bytes(rows: list[list[Any]], header: list[str] = CHINESE_HEADER, *, title: str = "终端") -> bytes:
    """An .xlsx with the header and rows on its first sheet (cells keep their Python types)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
