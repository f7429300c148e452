"""DynamoDB's single table in memory: items by (pk, sk), stored as their serialised attributes.

The fakes of the repositories keep their items here, keyed exactly like the real ones (the key
builders of `simrenew.adapters.dynamodb.keys`), and write them through `Tx`: every operation of a
transaction carries its condition, and a transaction with one failed condition writes nothing
and names, per operation, "ConditionalCheckFailed" (as DynamoDB's CancellationReasons do). A
model with a VersionAttribute is saved only if the stored version is the one it was read with,
and its local version is bumped after the commit (PynamoDB's behaviour)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from simrenew.adapters.dynamodb.models import Item

M = TypeVar("M", bound=Item)
T = TypeVar("T")
FAILED = "ConditionalCheckFailed"
Key = tuple[str, str]
Check = Callable[[Item | None], bool]


def setting(kind: type[Item], **values: Any) -> Callable[[Item | None], Item | None]:
    """An update's change for `Tx.update`: the stored item, which must be a `kind`, with `values` set."""

    def change(stored: Item | None) -> Item | None:
        assert isinstance(stored, kind)
        for name, value in values.items():
            setattr(stored, name, value)
        return stored

    return change


class Cancelled(Exception):
    """A transaction refused: `codes[i]` is FAILED where operation i's condition failed."""

    def __init__(self, codes: list[str | None]) -> None:
        super().__init__(f"transaction cancelled: {codes}")
        self.codes = codes


def _version(item: Item | None) -> int | None:
    if item is None:
        return None
    name = item._version_attribute_name
    return None if name is None else getattr(item, name, None)


@dataclass
class _Op:
    key: Key
    check: Check | None
    write: Callable[[Item | None], Item | None] | None  # the new item (None: delete), or no write
    saved: Item | None = None  # the caller's model whose local version goes up on commit


@dataclass
class FakeTable:
    rows: dict[Key, dict[str, Any]] = field(default_factory=dict)

    # --- reads (consistent: a fake has no replication lag) ----------------------------------------
    def load(self, key: Key) -> Item | None:
        raw = self.rows.get(key)
        return None if raw is None else Item.from_raw_data(copy.deepcopy(raw))

    def get(self, cls: type[M], pk: str, sk: str) -> M | None:
        found = self.load((pk, sk))
        return found if isinstance(found, cls) else None

    def query(self, cls: type[M], pk: str, prefix: str = "") -> list[M]:
        """The items of one partition whose sort key starts with `prefix`, in sort-key order."""
        keys = sorted(k for k in self.rows if k[0] == pk and k[1].startswith(prefix))
        return [i for i in (self.load(k) for k in keys) if isinstance(i, cls)]

    def index(self, cls: type[M], hash_attr: str, hash_value: str, sort_attr: str) -> list[M]:
        """A GSI: the items whose `hash_attr` is `hash_value`, in `sort_attr` order (sparse:
        items without the attribute are not in it)."""
        found = [i for i in self.scan(cls) if getattr(i, hash_attr, None) == hash_value]
        return sorted(
            (i for i in found if getattr(i, sort_attr, None) is not None), key=lambda i: getattr(i, sort_attr)
        )

    def scan(self, cls: type[M]) -> Iterator[M]:
        for key in sorted(self.rows):
            found = self.load(key)
            if isinstance(found, cls):
                yield found

    def put(self, item: Item, *, new: bool = False) -> None:
        """One PutItem (versioned models by version; `new`: only if the key is free)."""
        with self.tx() as tx:
            tx.save(item, new=new)

    def put_if(self, item: Item, *, new: bool = False) -> bool:
        """`put`, answering whether it wrote (False: its condition failed, nothing changed)."""
        try:
            self.put(item, new=new)
        except Cancelled:
            return False
        return True

    def tx(self) -> Tx:
        return Tx(self)

    def _commit(self, ops: list[_Op]) -> None:
        current = {op.key: self.load(op.key) for op in ops}
        codes: list[str | None] = [None if op.check is None or op.check(current[op.key]) else FAILED for op in ops]
        if FAILED in codes:
            raise Cancelled(codes)
        for op in ops:
            if op.write is None:
                continue
            written = op.write(current[op.key])
            if written is None:
                self.rows.pop(op.key, None)
            else:
                self.rows[op.key] = copy.deepcopy(written.serialize())
        for op in ops:  # PynamoDB bumps a saved model's local version once the write succeeded
            if op.saved is not None:
                name = str(op.saved._version_attribute_name)
                setattr(op.saved, name, (getattr(op.saved, name, None) or 0) + 1)


class Tx:
    """TransactWriteItems in memory: operations in call order, all written or none."""

    def __init__(self, table: FakeTable) -> None:
        self._table = table
        self._ops: list[_Op] = []

    def __enter__(self) -> Tx:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            self._table._commit(self._ops)

    def save(self, item: Item, *, new: bool = False, check: Check | None = None) -> None:
        """Put `item`: versioned models only over the version they were read with; `new` only
        where nothing is stored; `check` any further condition on what is stored."""
        read_version = _version(item)
        versioned = item._version_attribute_name is not None

        def condition(stored: Item | None) -> bool:
            if new and stored is not None:
                return False
            if versioned and _version(stored) != read_version:
                return False
            return check is None or check(stored)

        def write(_stored: Item | None) -> Item:
            out = Item.from_raw_data(copy.deepcopy(item.serialize()))
            if versioned:
                setattr(out, str(item._version_attribute_name), (read_version or 0) + 1)
            return out

        self._ops.append(_Op((item.pk, item.sk), condition, write, item if versioned else None))

    def update(self, key: Key, change: Callable[[Item | None], Item | None], check: Check | None = None) -> None:
        """UpdateItem: `change` gets what is stored (None if nothing) and returns the new item."""
        self._ops.append(_Op(key, check, change))

    def delete(self, key: Key, check: Check | None = None) -> None:
        self._ops.append(_Op(key, check, lambda _stored: None))

    def condition(self, key: Key, check: Check) -> None:
        self._ops.append(_Op(key, check, None))


def exists(stored: Item | None) -> bool:
    return stored is not None


def paged(items: list[T], limit: int, cursor: str | None) -> tuple[list[T], str | None]:
    """One page of `items` and the cursor of the next (an opaque offset here), None at the end."""
    start = int(cursor or 0)
    end = start + limit
    return items[start:end], (str(end) if end < len(items) else None)
