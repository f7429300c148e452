"""Install DynamoDB Local from the npm package amplify-dynamodb-simulator (no other download).

Only `package/emulator/` is kept (the jar, its libraries, the sqlite4java natives); the
jar's SHA-256 is checked against the value pinned in infra/processes.py.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from infra.processes import DDB_HOME, DDB_JAR_SHA256, DDB_VERSION


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def main() -> int:
    jar = DDB_HOME / "DynamoDBLocal.jar"
    if jar.exists() and sha256(jar) == DDB_JAR_SHA256:
        return 0
    print(f"installing DynamoDB Local (npm amplify-dynamodb-simulator@{DDB_VERSION}) into {DDB_HOME}")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["npm", "pack", f"amplify-dynamodb-simulator@{DDB_VERSION}", "--silent"],
            cwd=tmp,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        tgz = next(Path(tmp).glob("amplify-dynamodb-simulator-*.tgz"))
        staging = Path(tmp) / "x"
        with tarfile.open(tgz) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith("package/emulator/")]
            tar.extractall(staging, members=members, filter="data")
        got = sha256(staging / "package/emulator/DynamoDBLocal.jar")
        if got != DDB_JAR_SHA256:
            print(f"DynamoDBLocal.jar checksum mismatch: {got} != {DDB_JAR_SHA256}", file=sys.stderr)
            return 1
        if DDB_HOME.exists():
            shutil.rmtree(DDB_HOME)
        DDB_HOME.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging / "package/emulator"), DDB_HOME)
    return 0


if __name__ == "__main__":
    sys.exit(main())
