"""The single table's items, one module per aggregate (docs/data-model.md).

Import them through `simrenew.adapters.dynamodb.models`, which imports every module here (and so
registers every PynamoDB subclass before a polymorphic read deserialises one).
"""
