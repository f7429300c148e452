"""template.yaml gives API Gateway exactly the routes the Chalice app serves."""

from __future__ import annotations

from infra.template_routes import TEMPLATE, app_routes, template_routes


def test_every_app_route_has_its_api_event_and_no_other() -> None:
    assert template_routes(TEMPLATE.read_text(encoding="utf-8")) == app_routes()
