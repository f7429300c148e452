"""No code reaches the console's screen as it is: every value of every enum in the OpenAPI document (the
request enums and the vocabularies of what answers hold, shared/simrenew/domain/vocabulary.py), every
notification kind, and every audit action, ledger kind and delivery state the services write, has zh-CN and
English text in frontend/src/console/strings.ts (`enum.<vocabulary>.<value>`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from simrenew.domain import messages, transfers
from simrenew.domain.vocabulary import API_ENUMS
from tests.support.client import ApiClient

ROOT = Path(__file__).resolve().parents[2]
STRINGS = ROOT / "frontend" / "src" / "console" / "strings.ts"
SHARED = ROOT / "shared" / "simrenew"
_KEY = re.compile(r'^\s*(?:"([^"]+)"|([A-Za-z_][\w]*))\s*:\s*"((?:[^"\\]|\\.)*)"', re.MULTILINE)


def _dictionaries() -> dict[str, dict[str, str]]:
    """The zh and en dictionaries of strings.ts: key -> text."""
    source = STRINGS.read_text(encoding="utf-8")
    zh = source.split("const zh = {", 1)[1].split("\n};", 1)[0]
    en = source.split("const en: Dict<Key> = {", 1)[1].split("\n};", 1)[0]
    return {
        lang: {(m.group(1) or m.group(2)): m.group(3) for m in _KEY.finditer(body)}
        for lang, body in (("zh", zh), ("en", en))
    }


def _enums(node: Any, where: str = "#") -> list[tuple[str, str | None, list[Any]]]:
    found: list[tuple[str, str | None, list[Any]]] = []
    if isinstance(node, dict):
        if "enum" in node:
            found.append((where, node.get("x-enum"), node["enum"]))
        for key, value in node.items():
            found += _enums(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _enums(value, f"{where}/{i}")
    return found


def _missing(vocabulary: str, values: list[Any], texts: dict[str, dict[str, str]]) -> list[str]:
    out = []
    for value in values:
        key = f"enum.{vocabulary}.{value}"
        for lang in ("zh", "en"):
            text = texts[lang].get(key, "")
            # A Chinese "translation" that is the code itself is the raw code on screen.
            if not text.strip() or (lang == "zh" and text == str(value)):
                out.append(f"{lang}: {key}")
    return out


def test_every_enum_value_of_the_openapi_document_has_chinese_and_english_text(api: ApiClient) -> None:
    doc = api.get("/v1/openapi.json").json
    texts = _dictionaries()
    enums = _enums(doc)
    assert len(enums) >= len(API_ENUMS), "the document lists the vocabularies of answers as components"
    unnamed = [where for where, name, _ in enums if name is None]
    assert not unnamed, f"name these enums with vocabulary.enum_schema(...): {unnamed}"
    missing = [m for _, name, values in enums for m in _missing(str(name), values, texts)]
    assert not missing, f"add to frontend/src/console/strings.ts (both languages): {missing}"
    documented = {name: set(values) for _, name, values in enums}
    assert documented == {name: set(values) for name, values in API_ENUMS.items()}


def test_every_notification_kind_channel_and_state_has_both_texts() -> None:
    texts = _dictionaries()
    assert set(messages.KINDS) == set(API_ENUMS["notification_template"])
    assert set(messages.CHANNELS) == set(API_ENUMS["notification_channel"])
    # The states the sweep writes on its claims (services/sweep.py: state=..., finish(item, "...")).
    sweep = (SHARED / "services" / "sweep.py").read_text()
    written = set(re.findall(r'state="([a-z_]+)"', sweep)) | set(re.findall(r'finish\(\w+, "([a-z_]+)"', sweep))
    assert written and written <= set(API_ENUMS["notification_state"]), written
    for name in ("notification_template", "notification_channel", "notification_state"):
        assert not _missing(name, list(API_ENUMS[name]), texts), name


def test_every_audit_action_and_ledger_kind_the_services_write_is_in_the_vocabulary() -> None:
    sources = "\n".join(p.read_text() for p in SHARED.rglob("*.py"))
    actions = set(re.findall(r'"action":\s*"([a-z_]+)"', sources))
    actions |= set(re.findall(r'"action":\s*"[a-z_]+"\s+if\s+\w+\s+else\s+"([a-z_]+)"', sources))
    assert {"created", "mark_paid", "refund"} <= actions
    assert actions <= set(API_ENUMS["audit_action"]), actions - set(API_ENUMS["audit_action"])
    kinds: set[str] = set()
    names = {"OUT": transfers.OUT, "IN": transfers.IN}
    # ledger_line(item, kind, ...) in the adapters; LedgerLine(terminal, kind, ...) from the services (ports).
    calls = re.findall(r"ledger_line\(\s*[\w.]+,\s*([^,]+),", sources)
    calls += re.findall(r"LedgerLine\(\s*[\w.]+,\s*([^,]+),", sources)
    for call in calls:
        kinds |= set(re.findall(r'"([a-z_]+)"', call)) | {names[n] for n in re.findall(r"\b(OUT|IN)\b", call)}
    assert {"renewal", "reversal", "refund", "adjustment", "transfer_out", "transfer_in"} <= kinds
    assert kinds <= set(API_ENUMS["ledger_kind"]), kinds - set(API_ENUMS["ledger_kind"])


def test_webhook_events_and_delivery_states_match_what_the_service_sends() -> None:
    from simrenew.services.webhooks import EVENTS

    assert set(EVENTS) == set(API_ENUMS["webhook_event"])
    sources = (SHARED / "services" / "webhooks.py").read_text() + (SHARED / "adapters/dynamodb/webhooks.py").read_text()
    states = set(re.findall(r'state(?:=|, item\.last_error, item\.delivered_at = | = )"([a-z_]+)"', sources))
    assert states and states <= set(API_ENUMS["webhook_delivery_state"]), states


def test_the_strings_test_itself_catches_a_missing_translation() -> None:
    texts = _dictionaries()
    assert _missing("ledger_kind", ["renewal"], texts) == []
    assert _missing("ledger_kind", ["no_such_kind"], texts) == [
        "zh: enum.ledger_kind.no_such_kind",
        "en: enum.ledger_kind.no_such_kind",
    ]
    english_only = {"zh": {}, "en": texts["en"]}
    assert _missing("audit_action", ["mark_paid"], english_only) == ["zh: enum.audit_action.mark_paid"]
