"""Keep template.yaml's API events equal to the Chalice app's routes.

Chalice routes on API Gateway's resource path, so each route needs its own API event
(a `/{proxy+}` catch-all would reach the app with a resource it does not know).
`python -m infra.template_routes --write` regenerates the block between the markers;
a unit test fails when the two drift.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
BEGIN = "        # BEGIN generated API routes (python -m infra.template_routes --write)\n"
END = "        # END generated API routes\n"


def app_routes() -> list[tuple[str, str]]:
    from infra.localserver import load_function_module

    app = load_function_module("api").app
    return sorted((path, method) for path, methods in app.routes.items() for method in methods)


def event_name(path: str, method: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", path.replace("{", "By").replace("}", ""))
    return method.capitalize() + "".join(w[:1].upper() + w[1:] for w in words)


def render(routes: list[tuple[str, str]]) -> str:
    lines = [BEGIN]
    for path, method in routes:
        lines += [
            f"        {event_name(path, method)}:\n",
            "          Type: Api\n",
            "          Properties:\n",
            "            RestApiId: !Ref RestApi\n",
            f"            Path: {path}\n",
            f"            Method: {method}\n",
        ]
    lines.append(END)
    return "".join(lines)


def template_routes(text: str) -> list[tuple[str, str]]:
    block = text[text.index(BEGIN) : text.index(END)]
    return sorted(re.findall(r"Path: (\S+)\n\s+Method: (\S+)", block))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    text = TEMPLATE.read_text(encoding="utf-8")
    routes = app_routes()
    if template_routes(text) == routes:
        print("template.yaml API routes are up to date")
        return 0
    if not args.write:
        print("template.yaml API routes differ from the app; run: python -m infra.template_routes --write")
        return 1
    new = text[: text.index(BEGIN)] + render(routes) + text[text.index(END) + len(END) :]
    TEMPLATE.write_text(new, encoding="utf-8")
    print(f"wrote {len(routes)} API routes into template.yaml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
