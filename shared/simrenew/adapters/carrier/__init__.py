"""Carrier platform adapters (the CarrierPlatform port): Cisco IoT Control Center REST and
中国移动 OneLink, over one HTTP client with timeouts, retries and typed errors (http.py)."""
