"""The runtime of one function in the deployed-shape tier: a warm Lambda container.

Run as `python -I -S bootstrap.py <config.json>` with exactly the function's environment: no site
packages, no PYTHONPATH, no current directory; sys.path is what Lambda's Python runtime gives a
function (its code, then the layer's python/). It imports the template's handler once, then for
each request read from stdin (one JSON line: event, remaining time) calls it with a Lambda-like
context and writes one JSON line to the report pipe: the answer or the error, every AWS call the
function made (botocore's `before-call` hook on every client it creates), every environment
variable its own code read, and every ConfigError it raised (even one it caught).

AWS is moto's server (the only addition: clients made without an endpoint get moto's). An
asynchronous Lambda invoke (InvocationType=Event) is recorded and answered 202 here, as Lambda
accepts it; the tier then delivers its payload to the function it names.
"""

import base64
import datetime
import decimal
import importlib
import importlib.machinery
import importlib.util
import json
import os
import sys
import time
import traceback
import uuid

CONFIG = json.load(open(sys.argv[1], encoding="utf-8"))  # noqa: SIM115 - read once at start
sys.path[:0] = CONFIG["sys_path"]
REPORT = os.fdopen(CONFIG["report_fd"], "w", encoding="utf-8", buffering=1)
OWN_CODE = tuple(CONFIG["own_code"])  # folders whose reads of the environment are the function's own

calls = []
env_reads = []
config_errors = []
compiled = []  # modules compiled from source (no usable .pyc): at every cold start in Lambda

# Lambda's file system is read-only: nothing compiled here is kept for the next start.
sys.dont_write_bytecode = True
_source_to_code = importlib.machinery.SourceFileLoader.source_to_code


def _compiled(self, data, path, *args, **kwargs):
    compiled.append(str(path))
    return _source_to_code(self, data, path, *args, **kwargs)


importlib.machinery.SourceFileLoader.source_to_code = _compiled


# --- the environment, recorded --------------------------------------------------------------------
def _reader():
    frame = sys._getframe(3)
    while frame is not None:
        name = frame.f_code.co_filename
        if not name.endswith(("os.py", "_collections_abc.py", "bootstrap.py")):
            return name, frame.f_lineno
        frame = frame.f_back
    return "?", 0


_Base = type(os.environ)


class RecordingEnviron(_Base):
    def __getitem__(self, key):
        try:
            value = _Base.__getitem__(self, key)
        except KeyError:
            self._note(key, False)
            raise
        self._note(key, True)
        return value

    def __contains__(self, key):
        found = _Base.__contains__(self, key)
        self._note(key, found)
        return found

    def _note(self, key, present):
        where, line = _reader()
        if where.startswith(OWN_CODE):
            env_reads.append({"name": key, "present": present, "file": where, "line": line})


os.environ.__class__ = RecordingEnviron


# --- ConfigError, recorded when raised (the code may catch it and go on: a message stored as failed)
import simrenew.errors  # noqa: E402 - from the layer, after sys.path is Lambda's

_config_init = simrenew.errors.ConfigError.__init__


def _recording_init(self, *args, **kwargs):
    config_errors.append({"message": str(args[0]) if args else "", "stack": traceback.format_stack(limit=8)[:-1]})
    _config_init(self, *args, **kwargs)


simrenew.errors.ConfigError.__init__ = _recording_init


# --- every AWS call, recorded ----------------------------------------------------------------------
import botocore.awsrequest  # noqa: E402
import botocore.session  # noqa: E402


def _plain(value):
    if isinstance(value, bytes | bytearray):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if hasattr(value, "read"):
        return "<stream>"
    return value


def _stash(params, context, **_):
    context["deploy_params"] = _plain(params)


def _record(model, context, **_):
    service = model.service_model.service_name
    entry = {"service": service, "operation": model.name, "params": context.get("deploy_params", {})}
    calls.append(entry)
    params = entry["params"]
    if service == "lambda" and model.name == "Invoke" and params.get("InvocationType") == "Event":
        http = botocore.awsrequest.AWSResponse("http://deploytest/invoke", 202, {}, None)
        return http, {"StatusCode": 202, "ResponseMetadata": {"HTTPStatusCode": 202, "HTTPHeaders": {}}}
    return None


_create_client = botocore.session.Session.create_client


def create_client(self, service_name, *args, **kwargs):
    if kwargs.get("endpoint_url") is None and len(args) < 5:
        kwargs["endpoint_url"] = CONFIG["endpoint"]
    client = _create_client(self, service_name, *args, **kwargs)
    client.meta.events.register("before-parameter-build", _stash)
    client.meta.events.register("before-call", _record)
    return client


botocore.session.Session.create_client = create_client


# --- the handler -------------------------------------------------------------------------------------
class Context:
    def __init__(self, remaining):
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = CONFIG["arn"]
        self.memory_limit_in_mb = CONFIG["memory"]
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "2026/01/01/[$LATEST]deploytest"
        self._deadline = time.monotonic() + CONFIG["timeout"]
        self._remaining = list(remaining or [])

    def get_remaining_time_in_millis(self):
        if self._remaining:  # a scripted clock: each value once, the last one for ever
            return self._remaining.pop(0) if len(self._remaining) > 1 else self._remaining[0]
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _report(data):
    REPORT.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")


def main():
    module_name, _, attr = CONFIG["handler"].rpartition(".")
    started = time.monotonic()
    try:
        handler = getattr(importlib.import_module(module_name), attr)
    except BaseException:  # noqa: BLE001 - reported: an init failure is the function's answer
        report = {"init_error": traceback.format_exc(), "calls": calls, "env_reads": env_reads}
        _report(report | {"config_errors": config_errors})
        return
    origins = {}
    for name in ("simrenew", "boto3", "botocore", "pynamodb", "aws_lambda_powertools"):
        spec = importlib.util.find_spec(name)
        origins[name] = spec.origin if spec else None
    leaks = [m for m in ("pytest", "moto", "hypothesis", "infra", "tests") if importlib.util.find_spec(m)]
    _report(
        {
            "ready": True,
            "init_s": round(time.monotonic() - started, 3),
            "compiled_from_source": compiled,
            "modules": origins,
            "leaks": leaks,
            "sys_path": sys.path,
            "calls": calls,
            "env_reads": env_reads,
            "config_errors": config_errors,
        }
    )
    for line in sys.stdin:
        request = json.loads(line)
        del calls[:], env_reads[:], config_errors[:]
        out = {}
        try:
            out["result"] = _plain(handler(request["event"], Context(request.get("remaining_ms"))))
        except BaseException:  # noqa: BLE001 - reported as the invocation's error, as Lambda would
            out["error"] = traceback.format_exc()
        out |= {"calls": calls, "env_reads": env_reads, "config_errors": config_errors}
        _report(out)


main()
REPORT.flush()
sys.stdout.flush()
sys.stderr.flush()
os._exit(0)  # as Lambda ends a container: no waiting for threads the function left behind
