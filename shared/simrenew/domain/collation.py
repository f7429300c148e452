"""Names in the order a Chinese user expects: by pinyin (阿里 < 北京 < 张记), Latin letters among them
without regard to case, then by the name itself (its characters settle homophones). Code-point order
would put 北 (U+5317) before 张 (U+5F20) before 阿 (U+963F)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=65_536)
def name_key(name: str) -> tuple[str, str]:
    # Imported on the first sort by name only: the pinyin dictionary is not needed by other routes.
    from pypinyin import Style, lazy_pinyin

    parts = (part.strip() for part in lazy_pinyin(name.casefold(), style=Style.NORMAL))
    return (" ".join(p for p in parts if p), name)
