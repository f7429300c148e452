"""The API's request contract: one pydantic model per request body and per query string.

Routes name their models lazily ("fleet.TerminalCreate", "queries.Page"), resolved by `model()`: the
public look-up (no body, no query) never imports pydantic, so a cold container stays as small as it was.
`http.Api` validates every body and query string against its route's models before the handler runs
(`validate_body`, `validate_query`) and hands the handler the validated models;
`openapi.py` publishes the models' JSON Schemas (`document.request_schema`, imported only for the
document), so the document and the check are the same text. A model's fields declare their types,
required-ness and constraints; a model whose values have a rule in `simrenew.domain` (an ICCID's check
digit, a phone's format: shared with the CSV/XLSX import rows) runs it first (`Body.judge`), so a refusal
keeps the rule's code, message and field; a value the types refuse is answered by `_refusal`, in the
domain's vocabulary of codes. Rules that need the data (a plan that exists) stay in the services; see
docs/architecture.md, "The request contract".
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, RootModel, model_validator
from pydantic import ValidationError as PydanticError
from pydantic.config import JsonDict
from pydantic_core import ErrorDetails

from simrenew.domain.vocabulary import enum_schema
from simrenew.errors import ValidationError


class Body(BaseModel):
    """A JSON object body: a field the model does not name is refused (`unknown_field`), never ignored.
    Strict: a value is taken as JSON gave it (no "5" for 5, no true for 1), so the fields a handler hands on
    (`fields()`) are the ones the client sent."""

    model_config = ConfigDict(extra="forbid", strict=True)
    # The body as sent, when the model's values are judged by the service (`judged()` is False) and the
    # types refused one: the service answers it, with the code it always gave.
    _unjudged: dict[str, Any] | None = PrivateAttr(default=None)

    @classmethod
    def judge(cls, body: dict[str, Any]) -> None:
        """The domain rule of the body's values, raising simrenew.errors.ValidationError with its own code,
        message and field (a model with such a rule overrides this); it runs before the fields' types."""

    @classmethod
    def judged(cls) -> bool:
        """Whether a rule of simrenew.domain judges this model's values here (`judge` overridden); if not,
        the rule is still the service's (it needs the data, or lives in the service module)."""
        return cls.judge.__func__ is not Body.judge.__func__  # type: ignore[attr-defined]

    @model_validator(mode="before")
    @classmethod
    def _domain_rule(cls, data: Any) -> Any:
        if isinstance(data, dict):
            cls.judge(data)  # a SimRenewError is no ValueError: pydantic lets it through as it is
        return data

    def fields(self) -> dict[str, Any]:
        """The fields the client sent, as the services take them (by their JSON names): validated, so
        (strict) the values as sent; or the body itself when the service is its judge."""
        if self._unjudged is not None:
            return dict(self._unjudged)
        return self.model_dump(exclude_unset=True, by_alias=True)


class Patch(Body):
    """A partial update: at least one field (an empty patch is refused as `empty_patch` by the rule)."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"minProperties": 1})


class Query(BaseModel):
    """A query string (chalicelib/requests/queries.py): the parameters the route reads, each a string
    unless a rule reads it in the model; parameters the route does not read are ignored (as they always
    were)."""

    model_config = ConfigDict(extra="ignore")


class Text(RootModel[str]):
    """A body that is not JSON (CSV); the media type is the route's `body_type`."""


class Empty(Body):
    """No fields: an empty body or `{}`."""


def vocab(name: str) -> Any:
    """`Annotated[str, vocab("carrier")]`: a string whose values are one vocabulary of
    simrenew.domain.vocabulary (named by `x-enum` in the document)."""
    return Field(json_schema_extra=cast("JsonDict", enum_schema(name)))


def text(
    *,
    min_length: int | None = None,
    max_length: int | None = None,
    pattern: str | None = None,
    json_schema_extra: dict[str, Any] | None = None,
) -> Any:
    """`Annotated[str, text(max_length=60)]`: a string whose length or pattern the document states and the
    domain rule judges (`Body.judge`, or the service), after trimming it (" PAX-0001 " and an ICCID
    printed in groups are taken), with its own code: pydantic's check would refuse what the rule takes."""
    bounds = {"minLength": min_length, "maxLength": max_length, "pattern": pattern}
    schema = {k: v for k, v in bounds.items() if v is not None} | (json_schema_extra or {})
    return Field(json_schema_extra=cast("JsonDict", schema))


def model(ref: str) -> type[BaseModel]:
    """The model a route names: "module.Class" inside this package, or a class of this module ("Empty")."""
    module, _, name = ref.rpartition(".")
    found = getattr(import_module(f"{__name__}.{module}" if module else __name__), name)
    assert isinstance(found, type) and issubclass(found, BaseModel), ref
    return found


# pydantic's error types in the domain's codes (simrenew.domain: fleet._int, contact.clean_text, ...).
_CODES = {
    "missing": "required",
    "extra_forbidden": "unknown_field",
    "string_too_short": "too_short",
    "string_too_long": "too_long",
    "too_short": "required",
    "too_long": "too_many",
    "greater_than": "out_of_range",
    "greater_than_equal": "out_of_range",
    "less_than": "out_of_range",
    "less_than_equal": "out_of_range",
    "string_pattern_mismatch": "invalid_format",
}


def _field(loc: tuple[int | str, ...]) -> str:
    """A location as the domain names fields: "settings.service_fee.value", "lines[0].sn"."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("str", "int") and out:
            break  # a union's branch (dict[str, str | int]): the value itself is the field
        else:
            out += f".{part}" if out else str(part)
    return out or "body"


def _refusal(error: ErrorDetails) -> ValidationError:
    """The one place a value the model's types refuse becomes the API's 400, naming the field."""
    name = _field(tuple(error["loc"]))
    code = _CODES.get(error["type"], "invalid_type")
    if code == "unknown_field":
        return ValidationError(name, code, f"unknown field {name.rpartition('.')[2]!r}")
    if code == "required":
        return ValidationError(name, code, f"{name} is required")
    return ValidationError(name, code, f"{name}: {error['msg'][0].lower()}{error['msg'][1:]}")


def validate_body(ref: str, body: dict[str, Any]) -> BaseModel:
    """The body as the route's model, or the 400 naming the field. A field the model does not know is
    refused first (the first in sorted order), as before the models; then the model's domain rule
    (`Body.judge`), then its fields' types and constraints. A model whose values the service still judges
    (not `judged()`) hands a body its types refuse on as sent, for the service's own 400."""
    found = model(ref)
    known = {info.alias or name for name, info in found.model_fields.items()}
    unknown = sorted(set(body) - known) if found.model_config.get("extra") == "forbid" else []
    if unknown:
        raise ValidationError(unknown[0], "unknown_field", f"unknown field {unknown[0]!r}")
    try:
        return found.model_validate(body)
    except PydanticError as err:
        if not issubclass(found, Body) or found.judged():
            raise _refusal(err.errors(include_url=False)[0]) from None
    unjudged = found.model_construct(_fields_set=set(body))
    unjudged._unjudged = body
    return unjudged


def validate_query(ref: str, query: dict[str, str]) -> BaseModel:
    """The query string as the route's model, or the 400 of the rule that refused a parameter, naming it."""
    try:
        return model(ref).model_validate(query)
    except PydanticError as err:
        raise _refusal(err.errors(include_url=False)[0]) from None


def query_names(ref: str) -> tuple[str, ...]:
    """The parameters of a query model, by the names clients send ("from", not `from_`)."""
    return tuple(info.alias or name for name, info in model(ref).model_fields.items())
