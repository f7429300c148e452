"""docs/data-model.md is true of the code: its entities, indexes, access patterns and transactions.

Read from the doc's markdown tables and from the code (the models by import, the call sites by
`ast`). A new entity, index, read or transaction without its row in the doc fails here, as does a
row whose entity, index or method is gone, or that names another index than the code uses.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from infra.table import table_properties

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "data-model.md"
PACKAGE = ROOT / "shared" / "simrenew"
ADAPTERS = "simrenew.adapters.dynamodb"

READS = {"get", "query", "batch_get", "count", "scan"}
INDEX_ATTRS = {"gsi1", "gsi2", "gsi3", "gsi4", "expiry", "search", "pubsn", "pubtid"}
# Helpers that query the index they are handed (`_sharing(Item.pubsn, key)` in fleet.py sends the
# Query without PynamoDB's discriminator filter): a call of one is a read of that index.
INDEX_READERS = {"_sharing": "query"}
MODEL_NAME = re.compile(r"^(?:[A-Z]\w*Item|Item)$")
SHAPES = re.compile(r"(\w+) `([^`]+)` / `([^`]+)`")
BACKTICKED = re.compile(r"`([^`]+)`")


# --- the doc ---------------------------------------------------------------------------------------
def tables(text: str) -> dict[str, list[list[str]]]:
    """Markdown tables by their first header cell; rows as unescaped cells (`\\|` is a literal |)."""
    found: dict[str, list[list[str]]] = defaultdict(list)
    block: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            block.append(cells)
            continue
        if len(block) >= 2:
            found[block[0][0]].extend(row for row in block[2:])
        block = []
    return found


def full_name(cited: str) -> str:
    return cited if cited.startswith("simrenew.") else f"{ADAPTERS}.{cited}"


def citations(cell: str) -> list[str]:
    return [full_name(c) for c in BACKTICKED.findall(cell)]


# --- the code --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Site:
    function: str  # module.Class.method (or module.function)
    what: str  # get, query, ..., "transaction", "batch_write", or "index" (a reference to one)
    index: str  # table, gsi1, ... (for reads and index references)
    where: str


def module_sources() -> dict[str, str]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path.read_text(encoding="utf-8")
    return out


@cache
def _tree(text: str) -> ast.Module:
    return ast.parse(text)


def _is_model(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and bool(MODEL_NAME.match(node.id))


def sites(sources: dict[str, str]) -> list[Site]:
    """Every DynamoDB read (on a model or one of its indexes), index reference, transaction and
    batch write, with the function it is in."""
    found: list[Site] = []

    def visit(node: ast.AST, module: str, stack: list[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                visit(child, module, [*stack, child.name])
                continue
            where = f"{module}:{getattr(child, 'lineno', '?')}"
            function = ".".join([module, *stack])
            if isinstance(child, ast.Attribute):
                value = child.value
                if child.attr in READS and _is_model(value):
                    found.append(Site(function, child.attr, "table", where))
                elif (
                    child.attr in READS
                    and isinstance(value, ast.Attribute)
                    and value.attr in INDEX_ATTRS
                    and _is_model(value.value)
                ):
                    found.append(Site(function, child.attr, value.attr, where))
                elif child.attr in INDEX_ATTRS and _is_model(value):
                    found.append(Site(function, "index", child.attr, where))
                elif child.attr == "batch_write" and _is_model(value):
                    found.append(Site(function, "batch_write", "table", where))
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Name) and child.func.id == "Transaction":
                found.append(Site(function, "transaction", "table", where))
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Name) and child.func.id in INDEX_READERS:
                handed = child.args[0] if child.args else None
                if isinstance(handed, ast.Attribute) and handed.attr in INDEX_ATTRS and _is_model(handed.value):
                    found.append(Site(function, INDEX_READERS[child.func.id], handed.attr, where))
            visit(child, module, stack)

    for module, text in sources.items():
        visit(_tree(text), module, [])
    return found


def entity_classes(sources: dict[str, str]) -> dict[str, tuple[str, str]]:
    """class name → (module, discriminator) of every class declared with `discriminator=`."""
    out = {}
    for module, text in sources.items():
        for node in ast.walk(_tree(text)):
            if isinstance(node, ast.ClassDef):
                for kw in node.keywords:
                    if kw.arg == "discriminator" and isinstance(kw.value, ast.Constant):
                        out[node.name] = (module, str(kw.value.value))
    return out


def resolve(dotted: str) -> Any:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            target = getattr(target, attr)
        return target
    raise ImportError(dotted)


def docstring_shapes(doc: str) -> tuple[list[str], list[str], set[tuple[str, str, str]]]:
    key = re.search(r"^Key: PK (.+?), SK (.+?)\.$", doc, re.M)
    assert key, "no `Key: PK ..., SK ....` line"
    indexes = {m.groups() for m in re.finditer(r"^Index (\w+) `([^`]+)` / `([^`]+)`", doc, re.M)}
    return BACKTICKED.findall(key.group(1)), BACKTICKED.findall(key.group(2)), indexes


# --- the checks (pure, so the tests below can feed them a changed doc or code) ---------------------
def entity_problems(doc: str, sources: dict[str, str]) -> list[str]:
    rows = tables(doc)["Entity"]
    assert rows, "no entity table"
    documented = {BACKTICKED.findall(r[0])[0]: r for r in rows}
    code = entity_classes(sources)
    problems = [
        f"{name} ({kind}) is not in an entity table" for name, (_, kind) in code.items() if name not in documented
    ]
    problems += [f"{name} is documented but not defined in the code" for name in documented if name not in code]
    for name, (_, kind, module, pk, sk, index_cell, _purpose) in documented.items():
        if name not in code:
            continue
        defined_in, discriminator = code[name]
        if kind != discriminator:
            problems.append(f"{name}: doc says kind {kind!r}, code {discriminator!r}")
        if f"{ADAPTERS}.{module}" != defined_in:
            problems.append(f"{name}: doc says module {module!r}, it is defined in {defined_in}")
        cls = getattr(importlib.import_module(defined_in), name)
        try:
            doc_pk, doc_sk, doc_indexes = docstring_shapes(inspect.getdoc(cls) or "")
        except AssertionError as exc:
            problems.append(f"{name}: its docstring has {exc}")
            continue
        if BACKTICKED.findall(pk) != doc_pk or BACKTICKED.findall(sk) != doc_sk:
            problems.append(f"{name}: doc key {pk} / {sk}, docstring {doc_pk} / {doc_sk}")
        if set(SHAPES.findall(index_cell)) != doc_indexes:
            problems.append(f"{name}: doc indexes {index_cell!r}, docstring {sorted(doc_indexes)}")
    return problems


def index_problems(doc: str) -> list[str]:
    props = table_properties()
    template = {
        g["IndexName"]: (
            tuple(k["AttributeName"] for k in g["KeySchema"]),
            g.get("Projection", {}).get("ProjectionType"),
        )
        for g in props["GlobalSecondaryIndexes"]
    }
    documented = {r[0]: ((BACKTICKED.findall(r[1]) + BACKTICKED.findall(r[2])), r[3]) for r in tables(doc)["Index"]}
    problems = [f"index {n} of the table is not documented" for n in template if n not in documented]
    problems += [f"index {n} is documented but not in template.yaml" for n in documented if n not in template]
    for name, (attrs, projection) in documented.items():
        if name in template and (tuple(attrs), projection) != template[name]:
            problems.append(f"index {name}: doc says {attrs} {projection}, template {template[name]}")
    used = {r[2] for r in tables(doc)["#"]}
    problems += [f"access patterns name index {u!r}, not the table's" for u in used - {"table", *template}]
    problems += [f"index {n} is in no access pattern" for n in template if n not in used]
    settings = {r[0]: r[1] for r in tables(doc)["Setting"]}
    if BACKTICKED.findall(settings.get("TTL attribute", ""))[:1] != [props["TimeToLiveSpecification"]["AttributeName"]]:
        problems.append("the TTL attribute is not the template's")
    if BACKTICKED.findall(settings.get("Stream", ""))[:1] != [props["StreamSpecification"]["StreamViewType"]]:
        problems.append("the stream view type is not the template's")
    return problems


def access_problems(doc: str, sources: dict[str, str]) -> list[str]:
    rows = tables(doc)["#"]
    assert rows, "no access-pattern table"
    cited: dict[str, set[str]] = defaultdict(set)  # function → indexes the rows give it
    for _number, _pattern, index, _condition, code in rows:
        for fn in citations(code):
            cited[fn].add(index)
    found = sites(sources)
    reads = [s for s in found if s.what in READS]
    problems = [
        f"{s.where}: {s.what} in {s.function} is in no access pattern" for s in reads if s.function not in cited
    ]
    touched: dict[str, set[str]] = defaultdict(set)
    for s in found:
        if s.what in READS or (s.what == "index" and s.function in cited):
            touched[s.function].add(s.index)
    for fn, indexes in cited.items():
        if not any(s.function == fn for s in reads):
            problems.append(f"{fn} is cited as an access pattern but reads nothing")
        elif touched[fn] != indexes:
            problems.append(f"{fn}: the doc says it reads {sorted(indexes)}, the code {sorted(touched[fn])}")
    return problems


def write_problems(doc: str, sources: dict[str, str]) -> list[str]:
    cited = {fn for row in tables(doc)["Write"] for fn in citations(row[2])}
    writes = [s for s in sites(sources) if s.what in ("transaction", "batch_write")]
    problems = [
        f"{s.where}: a {s.what} in {s.function} is not in the transactions table"
        for s in writes
        if s.function not in cited
    ]
    problems += [
        f"{fn} is cited as a write but writes no transaction or batch" for fn in cited - {s.function for s in writes}
    ]
    return problems


# --- the tests ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def sources() -> dict[str, str]:
    return module_sources()


def test_every_entity_is_documented_with_the_keys_its_docstring_states(doc: str, sources: dict[str, str]) -> None:
    assert entity_problems(doc, sources) == []


def test_no_model_escapes_the_source_scan(sources: dict[str, str]) -> None:
    """Every Item subclass the package defines (found by import) was found by the scan above."""
    import pkgutil

    import simrenew.adapters.dynamodb as package
    from simrenew.adapters.dynamodb.models import Item, all_models

    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{info.name}")
    scanned = entity_classes(sources)
    for model in all_models():
        if model is Item or not model.__module__.startswith("simrenew."):
            continue
        assert scanned.get(model.__name__, ("", ""))[0] == model.__module__, model


def test_the_indexes_are_the_templates(doc: str) -> None:
    assert index_problems(doc) == []


def test_every_cited_method_exists(doc: str) -> None:
    cells = [row[4] for row in tables(doc)["#"]] + [row[2] for row in tables(doc)["Write"]]
    cited = [fn for cell in cells for fn in citations(cell)]
    assert len(cited) > 60
    missing = []
    for fn in cited:
        try:
            target = resolve(fn)
        except (ImportError, AttributeError):
            missing.append(fn)
            continue
        if not callable(target):
            missing.append(fn)
    assert missing == []


def test_every_read_is_an_access_pattern_on_the_index_it_uses(doc: str, sources: dict[str, str]) -> None:
    assert access_problems(doc, sources) == []


def test_every_transaction_and_batch_write_is_documented(doc: str, sources: dict[str, str]) -> None:
    assert write_problems(doc, sources) == []


def test_the_scan_finds_the_reads_it_must(sources: dict[str, str]) -> None:
    found = {(s.function, s.what, s.index) for s in sites(sources)}
    assert (f"{ADAPTERS}.fleet.TerminalRepository.find_by_tid", "query", "gsi2") in found
    assert (f"{ADAPTERS}.sweeps.SweepRepository.due", "query", "expiry") in found
    assert (f"{ADAPTERS}.fleet.MerchantRepository.find_many_by_key", "batch_get", "table") in found
    assert (f"{ADAPTERS}.health.table_reachable", "get", "table") in found
    # a dict's .get is not a read of the table
    assert not any(s.function.endswith("paging.decode_cursor") for s in sites(sources))


# --- the checks catch what they must (on changed copies of the doc and the code) --------------------
NEW_READ = """

    def by_model(self, tenant_id: str, model: str) -> builtins.list[TerminalItem]:
        return list(TerminalItem.gsi4.query(keys.terminals_by_expiry_gsi4pk(tenant_id)))
"""


def test_a_new_read_without_a_row_fails(doc: str, sources: dict[str, str]) -> None:
    changed = dict(sources)
    fleet = f"{ADAPTERS}.fleet"
    anchor = "    # --- transfer ---"
    assert anchor in changed[fleet]
    changed[fleet] = changed[fleet].replace(anchor, NEW_READ.lstrip("\n") + "\n" + anchor, 1)
    problems = access_problems(doc, changed)
    assert len(problems) == 1 and "TerminalRepository.by_model is in no access pattern" in problems[0], problems


def test_a_row_on_the_wrong_index_or_a_dropped_row_fails(doc: str, sources: dict[str, str]) -> None:
    row = "| 15 | A terminal by TID | gsi2 |"
    assert row in doc
    wrong = access_problems(doc.replace(row, "| 15 | A terminal by TID | gsi4 |"), sources)
    assert any("find_by_tid" in p and "gsi4" in p for p in wrong), wrong
    line = next(ln for ln in doc.splitlines() if ln.startswith("| 62 |"))
    dropped = access_problems(doc.replace(line + "\n", ""), sources)
    assert any("health.table_reachable is in no access pattern" in p for p in dropped), dropped


def test_an_undocumented_entity_or_a_wrong_key_fails(doc: str, sources: dict[str, str]) -> None:
    line = next(ln for ln in doc.splitlines() if ln.startswith("| `SweepRunItem` |"))
    assert any(
        "SweepRunItem (sweep_run) is not in an entity table" in p
        for p in entity_problems(doc.replace(line, ""), sources)
    )
    wrong = doc.replace(line, line.replace("`ALIVE#<run_id>`", "`RUN#<run_id>`"))
    assert any(p.startswith("SweepRunItem: doc key") for p in entity_problems(wrong, sources))


def test_an_index_missing_from_the_doc_fails(doc: str) -> None:
    line = next(ln for ln in doc.splitlines() if ln.startswith("| gsi4 |"))
    assert "index gsi4 of the table is not documented" in index_problems(doc.replace(line, ""))


# --- the models are in one place, and one import registers them all ---------------------------------
ITEMS = f"{ADAPTERS}.items."


def test_every_entity_is_defined_by_aggregate_in_items_and_exported_by_models(sources: dict[str, str]) -> None:
    from simrenew.adapters.dynamodb import models

    entities = entity_classes(sources)
    assert len(entities) > 30
    assert sorted(name for name, (module, _) in entities.items() if not module.startswith(ITEMS)) == []
    assert sorted(name for name in entities if name not in models.__all__) == []
    assert all(getattr(models, name).__module__ == module for name, (module, _) in entities.items())


def test_importing_models_alone_registers_every_entity_for_polymorphic_reads(sources: dict[str, str]) -> None:
    """A fresh interpreter that imports only `models` (as the fakes' table and every repository do)
    deserialises a raw item of every kind into its own class, as `Item.query` and `Item.batch_get` must."""
    import subprocess
    import sys

    kinds = {kind: name for name, (_, kind) in entity_classes(sources).items()}
    probe = (
        "import json, sys\n"
        "from simrenew.adapters.dynamodb.models import Item\n"
        "kinds = json.loads(sys.argv[1])\n"
        "built = {k: type(Item.from_raw_data({'pk': {'S': 'P'}, 'sk': {'S': 'S'}, 'kind': {'S': k}})).__name__"
        " for k in kinds}\n"
        "print(json.dumps(built))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, json.dumps(sorted(kinds))],
        env={**os.environ, "PYTHONPATH": str(ROOT / "shared")},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert json.loads(out) == kinds
