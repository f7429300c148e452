"""The request models as the OpenAPI document writes them (imported only when the document is built:
pydantic's JSON Schema machinery is no part of validating a request)."""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from chalicelib.requests import model

REF_TEMPLATE = "#/components/schemas/{model}"


class _OpenApiSchema(GenerateJsonSchema):
    """JSON Schema as the OpenAPI 3.0 document writes it: no titles, no `default: null`, and an optional
    field is "may be absent", not "may be null" (a field that may be null says `nullable`)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def generate(self, schema: Any, mode: Any = "validation") -> JsonSchemaValue:
        out = super().generate(schema, mode)
        out.pop("title", None)
        for definition in out.get("$defs", {}).values():
            definition.pop("title", None)
        return out


def request_schema(ref: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The model's JSON Schema and the definitions it refers to (for the document's components)."""
    schema = model(ref).model_json_schema(ref_template=REF_TEMPLATE, schema_generator=_OpenApiSchema)
    definitions = schema.pop("$defs", {})
    return schema, definitions
