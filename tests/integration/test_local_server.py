"""The local origin: API, webhook function and UI behind one port, errors in the API shape."""

from __future__ import annotations

import requests


def test_unknown_api_route_is_404_in_the_error_shape(server_url: str) -> None:
    r = requests.get(f"{server_url}/v1/no-such-thing", timeout=10)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "route_not_found"


def test_the_ui_is_served_on_the_same_origin(server_url: str) -> None:
    r = requests.get(f"{server_url}/", timeout=10)
    assert r.status_code == 200
    assert "text/html" in r.headers["content-type"]
    assert "SimRenew" in r.text
    pay = requests.get(f"{server_url}/pay/ABC123", timeout=10)
    assert pay.status_code == 200 and pay.text != r.text and "/assets/pay-" in pay.text
    assert requests.get(f"{server_url}/pay", timeout=10).text == pay.text
    # Any other path is the console (it routes by #hash).
    assert requests.get(f"{server_url}/terminals", timeout=10).text == r.text


def test_the_local_stack_serves_localstripes_stripe_js_pointed_at_localstripe(server_url: str, env: dict) -> None:
    r = requests.get(f"{server_url}/_local/stripe.js", timeout=10)
    assert r.status_code == 200 and "javascript" in r.headers["content-type"]
    assert f'"{env["STRIPE_API_BASE"]}/js.stripe.com/v3/"' in r.text
    assert "createPaymentMethod = async function" in r.text


def test_static_paths_cannot_escape_the_ui_folder(server_url: str) -> None:
    import http.client
    from urllib.parse import urlsplit

    # requests would normalise "../" away on the client; send the raw path instead.
    host = urlsplit(server_url)
    for path in ("/../../pyproject.toml", "/%2e%2e/%2e%2e/pyproject.toml", "/..%2f..%2fpyproject.toml"):
        conn = http.client.HTTPConnection(host.hostname or "127.0.0.1", host.port, timeout=10)
        conn.request("GET", path)
        body = conn.getresponse().read().decode(errors="replace")
        conn.close()
        assert "[build-system]" not in body, path


def test_the_stripe_webhook_is_routed_to_its_function_which_refuses_unsigned_events(server_url: str) -> None:
    r = requests.post(f"{server_url}/webhooks/stripe", data=b"{}", timeout=10)
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "Stripe-Signature"


def test_a_method_a_route_does_not_have_is_405_in_the_error_shape(server_url: str) -> None:
    for method in ("PUT", "TRACE", "DELETE"):
        r = requests.request(method, f"{server_url}/v1/health", timeout=10)
        assert r.status_code == 405, (method, r.text)
        assert r.json()["error"]["code"] == "method_not_allowed", (method, r.text)
    static = requests.request("TRACE", f"{server_url}/pay/X", timeout=10)
    assert (static.status_code, static.json()["error"]["code"]) == (405, "method_not_allowed")
