"""One-off after the search index is added to a deployed table: give every terminal and merchant
written before it its entry. `python -m infra.search_backfill --table NAME [--region R]`."""

from __future__ import annotations

import argparse


def run(description: str, backfill: str, what: str) -> int:
    """Parse --table and --region, run the named backfill, say how many items it changed."""
    import boto3

    from simrenew.adapters.dynamodb import fleet, search

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--table", required=True)
    parser.add_argument("--region", required=True)
    args = parser.parse_args()
    fn = {"backfill": search.backfill, "backfill_public_keys": fleet.backfill_public_keys}[backfill]
    done = fn(boto3.client("dynamodb", region_name=args.region), args.table)
    print(f"{done} {what}")
    return 0


def main() -> int:
    return run(__doc__ or "", "backfill", "items given their search-index entry")


if __name__ == "__main__":
    raise SystemExit(main())
