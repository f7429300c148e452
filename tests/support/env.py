"""The environment the functions see under test (what template.yaml gives them in AWS)."""

from __future__ import annotations

from pathlib import Path

UPLOADS_BUCKET = "simrenew-test-uploads"
PLATFORM_KEY = "srp_test-platform-key-000000000000000000"
WEBHOOK_SECRET = "whsec_test_0000000000000000000000"


def function_env(table_name: str, ddb_endpoint: str | None, public_base_url: str) -> dict[str, str]:
    env = {
        "SIMRENEW_ENV": "local",
        "TABLE_NAME": table_name,
        "PUBLIC_BASE_URL": public_base_url,
        "SIMRENEW_PLATFORM_KEY": PLATFORM_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "simrenew",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "UPLOADS_BUCKET": UPLOADS_BUCKET,
    }
    if ddb_endpoint:
        env["DDB_ENDPOINT"] = ddb_endpoint
    # Carrier accounts' keys: a mode-600 file per suite (Secrets Manager in AWS).
    import tempfile

    env["CARRIER_SECRETS_FILE"] = str(Path(tempfile.gettempdir()) / f"simrenew-carrier-secrets-{table_name}.json")
    return env
