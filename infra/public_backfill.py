"""One-off after the pay page's indexes (pubsn, pubtid; issue 17) are added to a deployed table:
give every terminal written before them its keys, so the look-up finds it in one Query.
`python -m infra.public_backfill --table NAME --region R`."""

from __future__ import annotations

import argparse


def main() -> int:
    import boto3

    from simrenew.adapters.dynamodb.fleet import backfill_public_keys

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--table", required=True)
    parser.add_argument("--region", required=True)
    args = parser.parse_args()
    done = backfill_public_keys(boto3.client("dynamodb", region_name=args.region), args.table)
    print(f"{done} terminals given their pay-page index keys")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
