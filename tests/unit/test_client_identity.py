"""Who the caller is, for rate limits: CloudFront's viewer address, trusted only with the secret
origin header; in AWS a request without it (API Gateway called around CloudFront) is refused."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from simrenew.config import load_config
from simrenew.errors import PermissionDenied
from tests.support.env import function_env

SECRET = "s3cret-origin-value-of-48-characters-long-xxxxxx"


@pytest.fixture
def http(api_module: Any) -> Any:
    from chalicelib import http  # on sys.path once the API module is loaded

    return http


def _aws(**overrides: Any) -> Any:
    local = load_config(function_env("t", None, "https://pay.example.com"))
    return replace(local, **{"env": "aws", "origin_verify_secret": SECRET, **overrides})


@pytest.mark.parametrize(
    ("header", "client"),
    [
        ("198.51.100.7:46532", "198.51.100.7"),
        ("2001:db8:1:2:3:4:5:6:443", "2001:db8:1:2::/64"),
        ("[2001:db8:1:2::9]:443", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7:1", "198.51.100.7"),
    ],
)
def test_with_the_origin_secret_the_client_is_the_viewer_address(http: Any, header: str, client: str) -> None:
    headers = {"x-origin-verify": SECRET, "cloudfront-viewer-address": header}
    assert http.client_identity(_aws(), headers, "130.176.0.1") == client  # not the edge's address


def test_two_merchants_behind_one_edge_are_two_clients(http: Any) -> None:
    a = http.client_identity(
        _aws(), {"x-origin-verify": SECRET, "cloudfront-viewer-address": "198.51.100.7:1"}, "130.176.0.1"
    )
    b = http.client_identity(
        _aws(), {"x-origin-verify": SECRET, "cloudfront-viewer-address": "203.0.113.9:2"}, "130.176.0.1"
    )
    assert a != b


@pytest.mark.parametrize("given", [None, "", "guess", SECRET + "x"])
def test_in_aws_a_request_without_the_origin_secret_is_403_whatever_viewer_header_it_sends(
    http: Any, given: str | None
) -> None:
    headers = {"cloudfront-viewer-address": "198.51.100.7:1"}
    if given is not None:
        headers["x-origin-verify"] = given
    with pytest.raises(PermissionDenied) as caught:
        http.client_identity(_aws(), headers, "198.51.100.7")
    assert (caught.value.status, caught.value.code) == (403, "origin_required")


def test_in_aws_without_any_origin_secret_configured_every_request_is_refused(http: Any) -> None:
    with pytest.raises(PermissionDenied):
        http.client_identity(_aws(origin_verify_secret=None), {"x-origin-verify": ""}, "198.51.100.7")
