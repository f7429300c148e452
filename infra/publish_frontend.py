"""Ship the built UI (frontend/dist) to the stack's private S3 bucket behind CloudFront.

    make publish-frontend STACK=simrenew-prod      # after `sam deploy`

Hashed assets are cached for a year (their names change with their content); the two HTML
pages are revalidated on every visit so a new release is seen at once."""

from __future__ import annotations

import argparse
import mimetypes
import sys
import time
from pathlib import Path
from typing import Any

DIST = Path(__file__).resolve().parent.parent / "frontend" / "dist"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def plan(dist: Path) -> list[tuple[Path, str, str, str]]:
    """(file, key, content type, cache control) for every file of the build."""
    if not (dist / "index.html").is_file() or not (dist / "pay.html").is_file():
        raise SystemExit(f"{dist} has no build: run `cd frontend && npm run build` first")
    out = []
    for path in sorted(p for p in dist.rglob("*") if p.is_file()):
        key = path.relative_to(dist).as_posix()
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype in ("application/javascript", "image/svg+xml", "application/json"):
            ctype += "; charset=utf-8"
        cache = IMMUTABLE if key.startswith("assets/") else REVALIDATE
        out.append((path, key, ctype, cache))
    return out


def publish(dist: Path, bucket: str, s3: Any) -> list[str]:
    """Assets first, pages last: a visitor never gets a page whose assets are not there yet."""
    files = plan(dist)
    files.sort(key=lambda f: f[3] == REVALIDATE)
    for path, key, ctype, cache in files:
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=ctype, CacheControl=cache)
    return [key for _, key, _, _ in files]


def main() -> int:
    import boto3

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--region")
    args = parser.parse_args()
    session = boto3.session.Session(region_name=args.region)
    stack = session.client("cloudformation").describe_stacks(StackName=args.stack)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    keys = publish(DIST, outputs["FrontendBucketName"], session.client("s3"))
    session.client("cloudfront").create_invalidation(
        DistributionId=outputs["FrontendDistributionId"],
        InvalidationBatch={
            "Paths": {"Quantity": 2, "Items": ["/index.html", "/pay.html"]},
            "CallerReference": str(time.time()),
        },
    )
    print(f"published {len(keys)} files to s3://{outputs['FrontendBucketName']}; {outputs['FrontendUrl']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
