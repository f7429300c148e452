"""Fleet files read as streams: the bytes of an upload (S3) or of a small body (DynamoDB chunks)
decoded piece by piece into lines for the CSV parser, the encoding found by reading the stream,
and a compact index of the identifiers already met in the file.

Nothing here holds the whole file: memory grows with the rows (about 24 bytes per identifier in
the index), never with the bytes of the file.
"""

from __future__ import annotations

import codecs
import hashlib
import io
from array import array
from collections.abc import Callable, Iterator
from typing import IO

from simrenew.domain.csvfile import DEFAULT_MAX_ROWS, RawRow, iter_import_rows
from simrenew.errors import ValidationError

READ_BYTES = 1 << 20  # one read from the store at a time
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
ZIP_MAGIC = b"PK\x03\x04"  # an .xlsx workbook (a zip)

OpenRaw = Callable[[], IO[bytes]]


class _Raw(io.RawIOBase):
    """Any object with read(n) (botocore's StreamingBody, a BytesIO) as a raw stream for io."""

    def __init__(self, source: IO[bytes]) -> None:
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._source.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n

    def close(self) -> None:
        try:
            self._source.close()
        finally:
            super().close()


def text_lines(source: IO[bytes], encoding: str) -> Iterator[str]:
    """Lines of the decoded stream with their endings (newline="", as the csv module needs).
    Raises ValidationError for a NUL (binary data) and UnicodeDecodeError where the bytes do
    not decode."""
    text = io.TextIOWrapper(io.BufferedReader(_Raw(source), READ_BYTES), encoding=encoding, errors="strict", newline="")
    with text:
        for line in text:
            if "\x00" in line:
                raise ValidationError(
                    "file", "invalid_encoding", "the file is not text (is it an Excel workbook?): save it as CSV"
                )
            yield line


def sniff(source: IO[bytes]) -> bytes:
    """The first bytes of a stream (the caller opens a fresh one to read the file)."""
    try:
        return source.read(4)
    finally:
        source.close()


def detect(open_raw: OpenRaw, max_rows: int = DEFAULT_MAX_ROWS) -> tuple[str, int]:
    """(encoding, data rows) of a fleet file, reading it as a stream: UTF-8 (BOM optional), else
    GB18030 (a superset of GBK), with the same refusals as decode_csv_bytes and the parser (header,
    row limit, malformed CSV). Only ever raises ValidationError."""
    head = sniff(open_raw())
    if not head:
        raise ValidationError("file", "empty_file", "the file is empty")
    if head.startswith(_UTF16_BOMS):
        raise ValidationError(
            "file", "invalid_encoding", "the file is UTF-16: save it as CSV (UTF-8) or CSV (GBK) and retry"
        )
    candidates = ["utf-8-sig"] if head.startswith(codecs.BOM_UTF8) else ["utf-8-sig", "gb18030"]
    for encoding in candidates:
        try:
            total = sum(1 for _ in iter_import_rows(text_lines(open_raw(), encoding), max_rows))
        except UnicodeDecodeError:
            continue
        if total == 0:
            raise ValidationError("file", "no_rows", "the file has a header but no rows")
        return encoding, total
    if head.startswith(codecs.BOM_UTF8):
        raise ValidationError("file", "invalid_encoding", "the file says it is UTF-8 but contains invalid bytes")
    raise ValidationError(
        "file", "invalid_encoding", "the file is neither UTF-8 nor GBK text: save it as CSV and retry"
    )


def stream_rows(open_raw: OpenRaw, encoding: str, max_rows: int = DEFAULT_MAX_ROWS) -> Iterator[RawRow]:
    """The file's rows one at a time (the file was checked by detect())."""
    try:
        yield from iter_import_rows(text_lines(open_raw(), encoding), max_rows)
    except UnicodeDecodeError:
        raise ValidationError("file", "invalid_encoding", "the file changed while it was read") from None


class IdentifierIndex:
    """SN, TID and ICCID values met earlier in the file → the row they were first met on.

    An open-addressing table of 64-bit digests in two arrays (8 + 4 bytes a slot, at most half
    full): about 24 bytes per identifier where a dict of strings takes about 150, so a 1,000,000-row
    file needs ~72 MB, not ~450 MB. Two different values share a digest with a chance of about
    n²/2⁶⁵ (1 in 4 million for 3 million identifiers)."""

    def __init__(self, capacity: int = 1 << 12) -> None:
        size = 1
        while size < capacity:
            size <<= 1
        self._keys = array("Q", bytes(8 * size))
        self._rows = array("I", bytes(4 * size))
        self._mask = size - 1
        self._used = 0

    @staticmethod
    def _digest(kind: str, value: str) -> int:
        raw = hashlib.blake2b(f"{kind}\x00{value}".encode(), digest_size=8).digest()
        return int.from_bytes(raw, "little") | 1  # never 0: 0 marks an empty slot

    def _slot(self, key: int) -> int:
        i = key & self._mask
        keys = self._keys
        while keys[i] != 0 and keys[i] != key:
            i = (i + 1) & self._mask
        return i

    def first(self, kind: str, value: str) -> int | None:
        key = self._digest(kind, value)
        i = self._slot(key)
        return int(self._rows[i]) if self._keys[i] == key else None

    def add(self, kind: str, value: str, row: int) -> None:
        key = self._digest(kind, value)
        i = self._slot(key)
        if self._keys[i] == key:
            return  # the first row stays
        self._keys[i], self._rows[i] = key, row
        self._used += 1
        if self._used * 2 > len(self._keys):
            self._grow()

    def _grow(self) -> None:
        old_keys, old_rows = self._keys, self._rows
        size = len(old_keys) * 2
        self._keys, self._rows = array("Q", bytes(8 * size)), array("I", bytes(4 * size))
        self._mask = size - 1
        for key, row in zip(old_keys, old_rows, strict=True):
            if key:
                i = self._slot(key)
                self._keys[i], self._rows[i] = key, row

    def __len__(self) -> int:
        return self._used
