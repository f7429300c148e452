"""The API's request contract: one pydantic model per request body and per query string.

Routes name their models lazily ("fleet.TerminalCreate", "queries.Page"), resolved by `model()`: the
public look-up (no body, no query) never imports pydantic, so a cold container stays as small as it was.
`http.Api` validates every body against its route's model before the handler runs (`validate_body`);
`openapi.py` publishes the models' JSON Schemas (`document.request_schema`, imported only for the
document), so the document and the check are the same text. The business rules of each value (an
ICCID's check digit, a phone's format, a plan that exists) stay in `simrenew.domain` and the services,
shared with the CSV/XLSX import rows; see docs/architecture.md, "The request contract".
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field, RootModel
from pydantic import ValidationError as PydanticError
from pydantic.config import JsonDict

from simrenew.domain.vocabulary import enum_schema
from simrenew.errors import ValidationError


class Body(BaseModel):
    """A JSON object body: a field the model does not name is refused (`unknown_field`), never ignored."""

    model_config = ConfigDict(extra="forbid")


class Patch(Body):
    """A partial update: at least one field (an empty patch is refused as `empty_patch` by the rule)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})


class Query(BaseModel):
    """A query string: every parameter a string; parameters the route does not read are ignored (as they
    always were)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Text(RootModel[str]):
    """A body that is not JSON (CSV); the media type is the route's `body_type`."""


class Empty(Body):
    """No fields: an empty body or `{}`."""


def vocab(name: str) -> Any:
    """`Annotated[str, vocab("carrier")]`: a string whose values are one vocabulary of
    simrenew.domain.vocabulary (named by `x-enum` in the document)."""
    return Field(json_schema_extra=cast("JsonDict", enum_schema(name)))


def model(ref: str) -> type[BaseModel]:
    """The model a route names: "module.Class" inside this package, or a class of this module ("Empty")."""
    module, _, name = ref.rpartition(".")
    found = getattr(import_module(f"{__name__}.{module}" if module else __name__), name)
    assert isinstance(found, type) and issubclass(found, BaseModel), ref
    return found


def validate_body(ref: str, body: dict[str, Any]) -> None:
    """Refuse a body that does not fit the route's model, naming the field. A field the model does not
    know is refused first (the first in sorted order), as before the models; the values themselves are
    judged by the domain rules the services apply, with their codes and messages."""
    try:
        model(ref).model_validate(body)
    except PydanticError as err:
        errors = err.errors(include_url=False)
        unknown = sorted(str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden" and len(e["loc"]) == 1)
        if unknown:
            raise ValidationError(unknown[0], "unknown_field", f"unknown field {unknown[0]!r}") from None


def query_names(ref: str) -> tuple[str, ...]:
    """The parameters of a query model, by the names clients send ("from", not `from_`)."""
    return tuple(info.alias or name for name, info in model(ref).model_fields.items())
