"""One-off after the search index is added to a deployed table: give every terminal and merchant
written before it its entry. `python -m infra.search_backfill --table NAME [--region R]`."""

from __future__ import annotations

import argparse


def main() -> int:
    import boto3

    from simrenew.adapters.dynamodb.search import backfill

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--table", required=True)
    parser.add_argument("--region", required=True)
    args = parser.parse_args()
    done = backfill(boto3.client("dynamodb", region_name=args.region), args.table)
    print(f"{done} items given their search-index entry")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
