"""One-off after the pay page's indexes (pubsn, pubtid; issue 17) are added to a deployed table:
give every terminal written before them its keys, so the look-up finds it in one Query.
`python -m infra.public_backfill --table NAME --region R`."""

from __future__ import annotations

from infra.search_backfill import run

if __name__ == "__main__":
    raise SystemExit(run(__doc__ or "", "backfill_public_keys", "terminals given their pay-page index keys"))
