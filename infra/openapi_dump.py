"""Write the API's OpenAPI document to a file without a server: `python -m infra.openapi_dump PATH`.

It imports functions/api/app.py and builds the document with the function GET /v1/openapi.json
answers with (nothing is called, no table is touched). The UI's build turns it into TypeScript
(frontend/src/common/schema.d.ts, by openapi-typescript): the console's and the pay page's types of
every answer come from the response models, never written by hand (docs/architecture.md)."""

from __future__ import annotations

import json
import os
import sys
from importlib import import_module
from pathlib import Path
from typing import Any

# Importing the app reads its configuration; nothing here uses it (no request is served).
_PLACEHOLDERS = {
    "SIMRENEW_ENV": "local",
    "TABLE_NAME": "openapi-dump",
    "AWS_REGION": "us-east-1",
    "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
    "SIMRENEW_PLATFORM_KEY": "openapi-dump-serves-no-request",
}


def document() -> dict[str, Any]:
    for name, value in _PLACEHOLDERS.items():
        os.environ.setdefault(name, value)
    from infra.localserver import load_function_module

    api = load_function_module("api")
    openapi = import_module("chalicelib.openapi")  # the app imports it only when the document is asked for
    doc: dict[str, Any] = openapi.build_openapi(api.api.specs, api.VERSION)
    return doc


def write(path: Path) -> bool:
    """Write the document to `path`; False (and the file left alone) when it is unchanged."""
    text = json.dumps(document(), indent=2, ensure_ascii=False) + "\n"
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m infra.openapi_dump PATH", file=sys.stderr)
        return 2
    changed = write(Path(argv[0]))
    print(f"{argv[0]}: {'written' if changed else 'unchanged'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
