"""The table schema lives in template.yaml only: the models, the moto table and the local
stack all follow it."""

from __future__ import annotations

from typing import Any

from pynamodb.indexes import GlobalSecondaryIndex

from infra.table import create_table_kwargs, table_properties
from simrenew.adapters.dynamodb.models import Item


def test_model_keys_and_indexes_equal_the_template() -> None:
    props = table_properties()
    template_keys = {k["AttributeName"]: k["KeyType"] for k in props["KeySchema"]}
    assert template_keys == {Item.pk.attr_name: "HASH", Item.sk.attr_name: "RANGE"}

    model_indexes = {}
    for index in [v for v in vars(Item).values() if isinstance(v, GlobalSecondaryIndex)]:
        schema = index._get_schema()
        model_indexes[index.Meta.index_name] = {k["AttributeName"]: k["KeyType"] for k in schema["key_schema"]}
    template_indexes = {
        g["IndexName"]: {k["AttributeName"]: k["KeyType"] for k in g["KeySchema"]}
        for g in props["GlobalSecondaryIndexes"]
    }
    assert model_indexes == template_indexes
    assert props["TimeToLiveSpecification"]["AttributeName"] == Item.ttl.attr_name
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_the_moto_table_is_created_from_the_template(ddb: Any) -> None:
    described = ddb.describe_table(TableName="simrenew-unit")["Table"]
    assert {g["IndexName"] for g in described["GlobalSecondaryIndexes"]} == {
        g["IndexName"] for g in create_table_kwargs("x")["GlobalSecondaryIndexes"]
    }
    ttl = ddb.describe_time_to_live(TableName="simrenew-unit")["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "ttl"
