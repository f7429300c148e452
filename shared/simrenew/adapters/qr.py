"""QR codes (segno) for the pay page: the WeChat Pay / Alipay code_url a desktop payer scans."""

from __future__ import annotations

import base64
import io


def qr_svg_data_uri(text: str) -> str:
    import segno

    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=5, border=2, xmldecl=False)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()
