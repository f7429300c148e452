"""GET /v1/openapi.json is kept equal to the routes the Chalice app really serves."""

from __future__ import annotations

from typing import Any

from tests.support.client import ApiClient


def test_openapi_paths_equal_the_app_routes(api: ApiClient, api_module: Any) -> None:
    doc = api.get("/v1/openapi.json").json
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    served = {(path, method) for path, methods in api_module.app.routes.items() for method in methods}
    assert documented == served


def test_every_operation_documents_the_error_shape(api: ApiClient) -> None:
    doc = api.get("/v1/openapi.json").json
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op["responses"]["400"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"
            }, (path, method)


def test_the_qr_code_route_documents_the_svg_it_answers_with(api: ApiClient) -> None:
    # Found by tests/integration/test_fuzz_openapi.py: a 200 image/svg+xml was documented as application/json.
    doc = api.get("/v1/openapi.json").json
    success = doc["paths"]["/v1/terminals/{sn}/qr.svg"]["get"]["responses"]["200"]
    assert success["content"] == {"image/svg+xml": {"schema": {"type": "string"}}}


def test_two_component_schemas_of_one_name_fail_the_document(api_module: Any) -> None:
    """An enum, a request model and a response model of one name would leave one schema out."""
    import pytest

    from chalicelib.openapi import _distinct  # on sys.path once the API module is loaded

    assert _distinct({"A": 1}, {"B": 2}, {"C": 3}) == {"A": 1, "B": 2, "C": 3}
    with pytest.raises(ValueError, match=r"\['B'\]"):
        _distinct({"A": 1, "B": 2}, {"C": 3}, {"B": 4})
