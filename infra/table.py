"""Create the SimRenew table from template.yaml, the one definition of its schema."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
TABLE_RESOURCE = "SimRenewTable"


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that accepts CloudFormation short tags (!Ref, !Sub, ...) as plain values."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    assert isinstance(node, yaml.MappingNode)
    return {suffix: loader.construct_mapping(node, deep=True)}


_CfnLoader.add_multi_constructor("!", _any_tag)  # type: ignore[no-untyped-call]  # PyYAML's stubs


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    assert isinstance(data, dict)
    return data


def table_properties(path: Path = TEMPLATE) -> dict[str, Any]:
    props = load_template(path)["Resources"][TABLE_RESOURCE]["Properties"]
    assert isinstance(props, dict)
    return props


def stream_specification(path: Path = TEMPLATE) -> dict[str, Any]:
    """The table's stream as the DynamoDB API takes it (the outbox dispatcher reads it); without
    one in the template, {"StreamEnabled": False} (template_check then names what is missing)."""
    view = (table_properties(path).get("StreamSpecification") or {}).get("StreamViewType")
    return {"StreamEnabled": True, "StreamViewType": view} if view else {"StreamEnabled": False}


def create_table_kwargs(table_name: str, path: Path = TEMPLATE) -> dict[str, Any]:
    """The CreateTable arguments the template declares (keys, GSIs, billing, stream)."""
    props = table_properties(path)
    return {
        "TableName": table_name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "GlobalSecondaryIndexes": props["GlobalSecondaryIndexes"],
        "BillingMode": props["BillingMode"],
        "StreamSpecification": stream_specification(path),
    }


def add_missing_indexes(client: Any, table_name: str, described: dict[str, Any]) -> list[str]:
    """Create the template's GSIs a table made before them lacks (one at a time, as DynamoDB
    allows), waiting for each; then give existing items their search-index entry."""
    have = {g["IndexName"] for g in described.get("GlobalSecondaryIndexes") or []}
    props = table_properties()
    added = []
    for gsi in props["GlobalSecondaryIndexes"]:
        if gsi["IndexName"] in have:
            continue
        names = {k["AttributeName"] for k in gsi["KeySchema"]}
        client.update_table(
            TableName=table_name,
            AttributeDefinitions=[a for a in props["AttributeDefinitions"] if a["AttributeName"] in names],
            GlobalSecondaryIndexUpdates=[{"Create": gsi}],
        )
        for _ in range(120):
            table = client.describe_table(TableName=table_name)["Table"]
            states = {g["IndexName"]: g.get("IndexStatus") for g in table.get("GlobalSecondaryIndexes") or []}
            if states.get(gsi["IndexName"]) == "ACTIVE" and table.get("TableStatus") == "ACTIVE":
                break
            time.sleep(0.5)
        added.append(gsi["IndexName"])
    if "search" in added:
        from simrenew.adapters.dynamodb.search import backfill

        backfill(client, table_name)
    if {"pubsn", "pubtid"} & set(added):
        from simrenew.adapters.dynamodb.fleet import backfill_public_keys

        backfill_public_keys(client, table_name)
    return added


def ensure_table(client: Any, table_name: str) -> bool:
    """Create the table (and its TTL) if it does not exist, and turn its stream on where a table
    made before the outbox has none. Returns True when created."""
    try:
        described = client.describe_table(TableName=table_name)["Table"]
    except client.exceptions.ResourceNotFoundException:
        described = None
    if described is not None:
        wanted = stream_specification()
        if wanted["StreamEnabled"] and not (described.get("StreamSpecification") or {}).get("StreamEnabled"):
            client.update_table(TableName=table_name, StreamSpecification=wanted)
        add_missing_indexes(client, table_name, described)
        return False
    client.create_table(**create_table_kwargs(table_name))
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    ttl = table_properties()["TimeToLiveSpecification"]
    try:
        client.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": bool(ttl["Enabled"])},
        )
    except client.exceptions.ClientError as exc:  # DynamoDB Local accepts it; keep going if an emulator does not
        if "UnknownOperation" not in str(exc):
            raise
    return True
