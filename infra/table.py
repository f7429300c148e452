"""Create the SimRenew table from template.yaml, the one definition of its schema."""

from __future__ import annotations

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


_CfnLoader.add_multi_constructor("!", _any_tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    assert isinstance(data, dict)
    return data


def table_properties(path: Path = TEMPLATE) -> dict[str, Any]:
    props = load_template(path)["Resources"][TABLE_RESOURCE]["Properties"]
    assert isinstance(props, dict)
    return props


def create_table_kwargs(table_name: str, path: Path = TEMPLATE) -> dict[str, Any]:
    """The CreateTable arguments the template declares (keys, GSIs, billing, SSE)."""
    props = table_properties(path)
    return {
        "TableName": table_name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "GlobalSecondaryIndexes": props["GlobalSecondaryIndexes"],
        "BillingMode": props["BillingMode"],
    }


def ensure_table(client: Any, table_name: str) -> bool:
    """Create the table (and its TTL) if it does not exist. Returns True when created."""
    try:
        client.describe_table(TableName=table_name)
        return False
    except client.exceptions.ResourceNotFoundException:
        pass
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
