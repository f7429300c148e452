"""The pay page's weight on a phone: its own HTML, JS and CSS under 60 KB gzipped (Stripe.js
and API answers excluded), as a browser really fetches it. `make ui-size` prints the figures."""

from __future__ import annotations

import gzip
from typing import Any
from urllib.parse import urlsplit

from tests.support.builders import Agent
from tests.support.client import ApiClient
from tests.support.fleet import terminal_body

BUDGET = 60 * 1024


def test_the_pay_page_transfers_under_60_kb_gzipped(ui_url: str, phone: Any, api: ApiClient, agent: Agent) -> None:
    sn = api.post("/v1/terminals", terminal_body(), key=agent.admin_key).json["sn"]
    fetched: dict[str, bytes] = {}

    def keep(response: Any) -> None:
        path = urlsplit(response.url).path
        own = response.url.startswith(ui_url) and not path.startswith(("/v1/", "/_local/"))
        if own and response.status == 200:
            fetched[path] = response.body()

    phone.on("response", keep)
    phone.goto(f"{ui_url}/pay/{sn}")
    phone.get_by_test_id("terminal").wait_for()
    phone.wait_for_load_state("networkidle")

    kinds = {p.rsplit(".", 1)[-1] if "." in p.rsplit("/", 1)[-1] else "html" for p in fetched}
    assert kinds >= {"html", "js", "css"}, fetched.keys()
    raw = sum(len(b) for b in fetched.values())
    packed = sum(len(gzip.compress(b, 9)) for b in fetched.values())
    print(f"\npay page: {len(fetched)} files, {raw} bytes raw, {packed} bytes gzipped (budget {BUDGET})")
    for path, body in sorted(fetched.items()):
        print(f"  {path}: {len(body)} raw, {len(gzip.compress(body, 9))} gzip")
    assert packed < BUDGET
