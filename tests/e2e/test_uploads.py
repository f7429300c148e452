"""The console's import page sends the file straight to its presigned upload URL on the local S3
(XMLHttpRequest, with an upload progress bar), never as the API request's body; the upload's
arrival starts the import, which the page then follows to the end."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.console_helpers import sign_in
from tests.support.builders import Agent
from tests.support.fleet import IMPORT_HEADER, csv_row, terminal_body


def test_the_import_page_puts_a_gbk_file_to_its_presigned_url_with_upload_progress_and_the_import_runs(
    desktop: Any, ui_url: str, agent: Agent, s3_endpoint: str
) -> None:
    page = desktop
    rows = 300
    lines = [IMPORT_HEADER] + [csv_row(terminal_body(), ("王记小卖部", "13812345678")) for _ in range(rows)]
    data = ("\r\n".join(lines) + "\r\n").encode("gbk")
    sent: list[tuple[str, str, str | None]] = []
    page.on("request", lambda r: sent.append((r.method, r.url, r.post_data_buffer and r.headers.get("content-type"))))
    # The upload bar is on screen while the bytes go out: hold the PUT until it has been seen.
    held: list[Any] = []

    def hold(route: Any) -> None:
        if route.request.method == "OPTIONS":
            route.continue_()
        else:
            held.append(route)

    page.route(f"{s3_endpoint}/**", hold)
    sign_in(page, ui_url, agent.admin_key)
    page.get_by_test_id("nav-imports").click()
    page.get_by_test_id("import-file").set_input_files({"name": "fleet.csv", "mimeType": "text/csv", "buffer": data})
    page.get_by_test_id("import-start").click()

    expect(page.get_by_test_id("upload-bar")).to_be_visible()
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(100)
    assert len(held) == 1, "the console did not PUT the file to the local S3"
    held[0].continue_()
    expect(page.get_by_test_id("import-progress-text")).to_have_text(f"{rows} / {rows}", timeout=120_000)
    expect(page.get_by_test_id("import-status")).to_have_text("已完成")
    expect(page.get_by_test_id("import-created")).to_have_text(str(rows))
    puts = [(m, u) for m, u, _ in sent if m == "PUT"]
    assert len(puts) == 1 and puts[0][1].startswith(f"{s3_endpoint}/") and f"/uploads/{agent.tenant_id}/" in puts[0][1]
    posts = [t for m, u, t in sent if m == "POST" and u.endswith("/v1/imports")]
    assert posts == ["application/json"]  # the API got the file's name and size, not its bytes
    page.get_by_test_id("nav-merchants").click()
    expect(page.get_by_text("王记小卖部")).to_be_visible()
