"""The local stand-in for the outbox's event source mapping: DynamoDB Local's stream → the
dispatcher function's handler, with the Lambda event shape, filter, batch size and retries that
template.yaml gives OutboxStreamMapping.

    python -m infra.outbox_poller [--checkpoint .local/outbox-poller.json] [--every 0.5]

describe_stream → shards (parents first) → get_shard_iterator (after the checkpointed sequence
number, else TRIM_HORIZON) → get_records → the records the template's FilterCriteria passes, in
batches of BatchSize, as `{"Records": [...]}` → handler. Records reported in batchItemFailures
(or a batch whose handler raised, bisected) are retried up to MaximumRetryAttempts times, then
written to .local/logs/outbox-dead-letters.jsonl (the on-failure destination); they stay pending
in the table for the sweep's drain. The checkpoint is written after the handler returned, so a
poller killed in between hands the same records to the next one (at least once; the dispatcher
makes that send nothing twice). Binds nothing; `make dev` and the integration tests start it as a
child process that dies with them.

`OUTBOX_POLLER_FAULT` (tests only): `kill_before_handler` or `kill_before_checkpoint` makes the
process SIGKILL itself at that point of the first batch it has.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from infra.processes import LOCAL
from infra.table import TEMPLATE, load_template

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
MAPPING_RESOURCE = "OutboxStreamMapping"
FAULT_ENV = "OUTBOX_POLLER_FAULT"
FAULTS = ("kill_before_handler", "kill_before_checkpoint")
RETRY_PAUSE_S = 0.5


# --- the template's event source mapping ------------------------------------------------------------
def mapping_properties(path: Path = TEMPLATE) -> dict[str, Any]:
    props = load_template(path)["Resources"][MAPPING_RESOURCE]["Properties"]
    assert isinstance(props, dict)
    return props


def filter_patterns(props: dict[str, Any]) -> list[dict[str, Any]]:
    """The FilterCriteria patterns (JSON text in the template) as data."""
    patterns = []
    for entry in (props.get("FilterCriteria") or {}).get("Filters") or []:
        pattern = json.loads(entry["Pattern"])
        if not isinstance(pattern, dict) or not pattern:
            raise ValueError(f"a filter pattern must be a non-empty object: {entry['Pattern']!r}")
        patterns.append(pattern)
    return patterns


def _match(pattern: Any, value: Any) -> bool:
    """Lambda's event filtering for the exact-value patterns the template uses: an object matches
    key by key, a list of scalars is "one of". Other operators (prefix, numeric...) are refused
    rather than guessed, so a template that starts using them fails the check until this knows."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(k in value and _match(v, value[k]) for k, v in pattern.items())
    if isinstance(pattern, list):
        if any(isinstance(p, dict | list) for p in pattern):
            raise NotImplementedError(f"filter operators are not supported locally: {pattern!r}")
        values = value if isinstance(value, list) else [value]
        return any(v in pattern for v in values)
    raise ValueError(f"a pattern leaf must be a list of values, not {pattern!r}")


def passes(patterns: list[dict[str, Any]], record: dict[str, Any]) -> bool:
    """True when some pattern matches the record (no patterns: everything passes)."""
    return not patterns or any(_match(p, record) for p in patterns)


def _example(event_name: str, kind: str, state: str) -> dict[str, Any]:
    image = {"pk": {"S": "TENANT#t_1"}, "sk": {"S": "X"}, "kind": {"S": kind}, "state": {"S": state}}
    return {"eventName": event_name, "dynamodb": {"Keys": {"pk": image["pk"], "sk": image["sk"]}, "NewImage": image}}


# What the filter must pass (True) and drop (False); template_check and the unit tests use them.
FILTER_EXAMPLES: list[tuple[str, dict[str, Any], bool]] = [
    ("a new agent event", _example("INSERT", "outbox", "pending"), True),
    ("a new merchant notice", _example("INSERT", "terminal_event", "pending"), True),
    ("a new carrier operation", _example("INSERT", "carrier_op", "pending"), True),
    ("a carrier operation marked done", _example("MODIFY", "carrier_op", "done"), False),
    ("an agent event marked delivered", _example("MODIFY", "outbox", "delivered"), False),
    ("an agent event queued again after a failure", _example("MODIFY", "outbox", "pending"), False),
    ("a merchant notice marked sent", _example("MODIFY", "terminal_event", "sent"), False),
    ("a sent notice copied by a terminal transfer", _example("INSERT", "terminal_event", "sent"), False),
    ("a new order", _example("INSERT", "order", "pending"), False),
    ("a new notification claim", _example("INSERT", "notification", "sending"), False),
    ("an expired item removed by TTL", {"eventName": "REMOVE", "dynamodb": {"Keys": {}}}, False),
]


# --- stream records as Lambda hands them over ----------------------------------------------------------
def lambda_record(raw: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A record from dynamodbstreams.get_records (boto3 parses the time) in the shape Lambda
    delivers: ApproximateCreationDateTime in epoch seconds, eventSourceARN added."""
    change = dict(raw.get("dynamodb") or {})
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = float(int(created.timestamp()))
    return {
        "eventID": raw.get("eventID"),
        "eventName": raw.get("eventName"),
        "eventVersion": raw.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": change,
        "eventSourceARN": stream_arn,
    }


class Checkpoint:
    """Per shard, the last sequence number handed to the handler successfully (a JSON file)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {}
        if path.exists():
            try:
                self.data = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                self.data = {}

    def for_stream(self, stream_arn: str) -> dict[str, Any]:
        if self.data.get("stream_arn") != stream_arn:  # a new table or stream: start over
            self.data = {"stream_arn": stream_arn, "shards": {}}
        shards = self.data.setdefault("shards", {})
        assert isinstance(shards, dict)
        return shards

    def save(self, **status: Any) -> None:
        self.data.update(status, pid=os.getpid())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1), encoding="utf-8")
        tmp.replace(self.path)


class Poller:
    def __init__(
        self,
        ddb: Any,
        streams: Any,
        table_name: str,
        handler: Handler,
        checkpoint: Checkpoint,
        *,
        mapping: dict[str, Any] | None = None,
        context_factory: Callable[[], Any] = lambda: None,
        dead_letters: Path | None = None,
        fault: str | None = None,
    ) -> None:
        props = mapping if mapping is not None else mapping_properties()
        self._ddb, self._streams, self._table = ddb, streams, table_name
        self._handler, self._checkpoint, self._context = handler, checkpoint, context_factory
        self._patterns = filter_patterns(props)
        self._batch_size = int(props.get("BatchSize", 100))
        self._max_retries = int(props.get("MaximumRetryAttempts", 0))
        self._bisect = bool(props.get("BisectBatchOnFunctionError", False))
        self._dead_letters = dead_letters
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"{FAULT_ENV} must be one of {FAULTS}, not {fault!r}")
        self._fault = fault
        self._iterators: dict[str, str] = {}
        self._region = str(getattr(streams.meta, "region_name", "") or "ddblocal")
        self.handled = 0
        self._caught_up: bool | None = None

    # --- one pass over the stream -------------------------------------------------------------------
    def poll_once(self) -> int:
        """Read every open shard once; hand what passes the filter to the handler. Returns how
        many stream records were read."""
        arn = self._ddb.describe_table(TableName=self._table)["Table"].get("LatestStreamArn")
        if not arn:
            raise RuntimeError(f"table {self._table} has no stream: create it with infra.table.ensure_table")
        done = self._checkpoint.for_stream(arn)
        read = 0
        for shard in self._shards(arn):
            shard_id = shard["ShardId"]
            state = done.setdefault(shard_id, {})
            parent = shard.get("ParentShardId")
            if state.get("closed") or (parent in done and not done[parent].get("closed")):
                continue  # finished, or its parent's records must go first
            read += self._poll_shard(arn, shard_id, state)
        caught_up = read == 0
        if caught_up != self._caught_up:
            self._caught_up = caught_up
            self._checkpoint.save(caught_up=caught_up, handled=self.handled)
        return read

    def _shards(self, arn: str) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        start: str | None = None
        while True:
            kwargs: dict[str, Any] = {"StreamArn": arn}
            if start:
                kwargs["ExclusiveStartShardId"] = start
            desc = self._streams.describe_stream(**kwargs)["StreamDescription"]
            shards += desc.get("Shards", [])
            start = desc.get("LastEvaluatedShardId")
            if not start:
                return shards

    def _iterator(self, arn: str, shard_id: str, state: dict[str, Any]) -> str:
        if shard_id in self._iterators:
            return self._iterators[shard_id]
        kwargs: dict[str, Any] = {"StreamArn": arn, "ShardId": shard_id, "ShardIteratorType": "TRIM_HORIZON"}
        if state.get("seq"):
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=state["seq"])
        iterator = str(self._streams.get_shard_iterator(**kwargs)["ShardIterator"])
        self._iterators[shard_id] = iterator
        return iterator

    def _poll_shard(self, arn: str, shard_id: str, state: dict[str, Any]) -> int:
        try:
            response = self._streams.get_records(ShardIterator=self._iterator(arn, shard_id, state), Limit=1000)
        except self._streams.exceptions.ExpiredIteratorException:
            self._iterators.pop(shard_id, None)
            return 0
        except self._streams.exceptions.TrimmedDataAccessException:
            self._iterators.pop(shard_id, None)
            state.pop("seq", None)  # older than the stream keeps: read from what is left
            return 0
        raw = response.get("Records", [])
        records = [lambda_record(r, arn, self._region) for r in raw]
        wanted = [r for r in records if passes(self._patterns, r)]
        for start in range(0, len(wanted), self._batch_size):
            batch = wanted[start : start + self._batch_size]
            self._fault_point("kill_before_handler")
            started = time.monotonic()
            self._deliver(batch, self._max_retries)
            self._fault_point("kill_before_checkpoint")
            self.handled += len(batch)
            print(f"[outbox] {len(batch)} record(s) handled in {time.monotonic() - started:.2f}s", flush=True)
        nxt = response.get("NextShardIterator")
        if raw:
            state["seq"] = raw[-1]["dynamodb"]["SequenceNumber"]
        if nxt:
            self._iterators[shard_id] = nxt
        else:
            self._iterators.pop(shard_id, None)
            state["closed"] = True
        if raw or not nxt:
            self._checkpoint.save(handled=self.handled)
        return len(raw)

    # --- the handler, its retries and the dead letters --------------------------------------------------------
    def _deliver(self, batch: list[dict[str, Any]], retries_left: int) -> None:
        while batch:
            try:
                result = self._handler({"Records": batch}, self._context())
            except Exception as exc:  # noqa: BLE001 - a crashed invocation is retried, as in Lambda
                print(f"[outbox] handler failed: {exc!r}", file=sys.stderr, flush=True)
                if self._bisect and len(batch) > 1:
                    middle = len(batch) // 2
                    self._deliver(batch[:middle], retries_left)
                    self._deliver(batch[middle:], retries_left)
                    return
                failed_from = 0
            else:
                failed = {str(f.get("itemIdentifier")) for f in (result or {}).get("batchItemFailures") or []}
                if not failed:
                    return
                seqs = [str(r["dynamodb"]["SequenceNumber"]) for r in batch]
                failed_from = min((seqs.index(s) for s in failed if s in seqs), default=0)
            if retries_left <= 0:
                self._dead_letter(batch[failed_from:])
                return
            retries_left -= 1
            batch = batch[failed_from:]
            time.sleep(RETRY_PAUSE_S)

    def _dead_letter(self, records: list[dict[str, Any]]) -> None:
        """What Lambda sends to the on-failure destination: where to find the records, not them."""
        print(f"[outbox] {len(records)} record(s) failed every retry; they stay pending", file=sys.stderr, flush=True)
        if self._dead_letters is None:
            return
        self._dead_letters.parent.mkdir(parents=True, exist_ok=True)
        with self._dead_letters.open("a", encoding="utf-8") as out:
            out.write(
                json.dumps(
                    {
                        "at": time.time(),
                        "first_sequence_number": records[0]["dynamodb"]["SequenceNumber"],
                        "last_sequence_number": records[-1]["dynamodb"]["SequenceNumber"],
                        "records": len(records),
                    }
                )
                + "\n"
            )

    def _fault_point(self, name: str) -> None:
        if self._fault == name:
            print(f"[outbox] fault {name}: killing myself", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    # --- the loop ------------------------------------------------------------------------------------------
    def run(self, stopping: threading.Event, every_s: float) -> None:
        while not stopping.is_set():
            try:
                read = self.poll_once()
            except Exception as exc:  # noqa: BLE001 - DynamoDB Local restarting must not end the loop
                print(f"[outbox] poll failed: {exc!r}", file=sys.stderr, flush=True)
                self._iterators.clear()
                read = 0
            if not read:
                stopping.wait(every_s)


def clients(endpoint: str, region: str) -> tuple[Any, Any]:
    import boto3

    kwargs = {"endpoint_url": endpoint, "region_name": region}
    return boto3.client("dynamodb", **kwargs), boto3.client("dynamodbstreams", **kwargs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Feed DynamoDB Local's stream to the outbox dispatcher")
    parser.add_argument("--checkpoint", type=Path, default=LOCAL / "outbox-poller.json")
    parser.add_argument("--every", type=float, default=0.5, help="seconds between polls when idle")
    args = parser.parse_args(argv)
    from infra.localserver import LocalContext, load_function_module

    endpoint, table = os.environ["DDB_ENDPOINT"], os.environ["TABLE_NAME"]
    ddb, streams = clients(endpoint, os.environ.get("AWS_REGION", "us-east-1"))
    dispatcher = load_function_module("dispatcher")
    dispatcher.services()  # built before the first record, as in a Lambda container's init
    poller = Poller(
        ddb,
        streams,
        table,
        dispatcher.handler,
        Checkpoint(args.checkpoint),
        context_factory=LocalContext,
        dead_letters=LOCAL / "logs" / "outbox-dead-letters.jsonl",
        fault=os.environ.get(FAULT_ENV) or None,
    )
    stopping = threading.Event()

    def on_term(signum: int, frame: Any) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    print(f"[outbox] polling the stream of {table} at {endpoint}", flush=True)
    poller.run(stopping, args.every)
    return 0


if __name__ == "__main__":
    sys.exit(main())
