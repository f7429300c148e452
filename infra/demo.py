"""Demo data for `make dev`, loaded once: a demo agent (and, as the fleet lands, its fleet)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

DEMO_AGENT = {
    "name": "演示代理商 Demo Agent",
    "contact_name": "王小明",
    "contact_email": "demo-agent@example.com",
    "contact_phone": "13800138000",
}


def load_once(services: Any, state_file: Path) -> dict[str, str]:
    """Create the demo agent unless the kept state names one that still exists."""
    if state_file.exists():
        state: dict[str, str] = json.loads(state_file.read_text())
        if services.tenants.get(state["tenant_id"]) is not None:
            return state
    tenant, issued = services.tenants.create_active(DEMO_AGENT)
    state = {"tenant_id": tenant.tenant_id, "api_key": issued.secret}
    # Local only: the demo key is kept so every `make dev` can print it (AWS keeps hashes only).
    state_file.touch(mode=0o600)
    state_file.write_text(json.dumps(state))
    os.chmod(state_file, 0o600)
    return state
