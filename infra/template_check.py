"""Check template.yaml offline, against AWS's own tools and against the code.

    python -m infra.template_check        # prints a report; exit status 1 on any failure

1. cfn-lint (as a library) finds nothing.
2. The SAM translator (aws-sam-translator) turns it into plain CloudFormation without
   touching AWS: local CodeUri/ContentUri folders become fake S3 locations and the
   managed-policy loader is a stub.
3. Cross-checks with the code, on the translated template (Globals merged in):
   - every function's Handler resolves to a callable: the module is imported in a fresh
     interpreter laid out as Lambda lays it out (CodeUri folder, then the layer folders),
     with exactly the environment the template gives that function;
   - each function's module builds its composition root (simrenew/bootstrap.py `ROOTS`), which
     gets through with the function's environment; that environment is exactly what the root
     reads in AWS (`NEEDS`: the common variables plus its groups' AWS variables, none missing,
     none extra), so a variable read on first use only (STRIPE_SECRET_ARN, SWEEP_FUNCTION:
     `ConfigError("<NAME> is required in AWS")`) is there too; no secret values or local-only
     settings appear in the template;
   - the table's keys, indexes, attribute types, projections and TTL attribute equal the
     PynamoDB models, and `infra/table.py` (the local stack and the tests) reads the same
     definition;
   - runtimes equal the Python running this check, arm64;
   - least privilege: only the API function reads the platform key, only the sweep and the
     outbox dispatcher send SMS and e-mail, no wildcard actions, `Resource: "*"` only where AWS
     allows nothing else;
   - the outbox: the table's stream (NEW_IMAGE) feeds the dispatcher through an event source
     mapping that reports partial batch failures, bisects, retries a bounded number of times,
     has an on-failure destination, and whose filter passes new outbox items only (checked with
     the matcher infra/outbox_poller.py applies locally).

Every check takes the template text, so tests run them on modified copies.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import lru_cache, wraps
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
TABLE_RESOURCE = "SimRenewTable"
LOCAL_CODE_BUCKET = "local-path"  # fake S3 bucket: its keys are the template's local folders
DUMMY_REGION = "us-east-1"

# Least privilege rules the issue states, checked on the translated IAM roles.
PLATFORM_KEY_SECRET = "PlatformKeySecret"  # noqa: S105 - a logical id, not a secret
PLATFORM_KEY_READERS = {"ApiFunction"}  # the webhook, sweep and worker must not read it
# The sweep (reminders, digests) and the outbox dispatcher (receipts, alerts); the API cannot.
SMS_SENDERS = {"SweepFunction", "DispatcherFunction"}
EMAIL_SENDERS = {"SweepFunction", "DispatcherFunction"}
OUTBOX_FUNCTION = "DispatcherFunction"
SWEEP_FUNCTION = "SweepFunction"
# Who may invoke the sweep function: the API (POST /v1/admin/sweeps starts a run) and the sweep
# function itself (its coordinator starts the shard workers, a worker its continuation).
SWEEP_INVOKERS = {"ApiFunction", "SweepFunction"}
# Concurrent sweep invocations besides one worker per shard: the coordinator or the day's end, the
# 5-minute job, a continuation starting while its predecessor returns.
SWEEP_EXTRA_CONCURRENCY = 3
STAR_RESOURCE_ACTIONS = {"sns:Publish"}  # SMS to a phone number has no resource ARN
# Carrier accounts' keys (docs/carrier.md): one secret per account under simrenew/<Stage>/carrier/.
# The sweep reads them for the outbox's drain (carrier operations the stream did not deliver).
CARRIER_SECRET_READERS = {"ApiFunction", "DispatcherFunction", "CarrierSyncFunction", "SweepFunction"}
CARRIER_SECRET_WRITERS = {"ApiFunction"}  # connect (create) and remove (delete)
CARRIER_SECRET_SCOPE = "/carrier/*"  # noqa: S105 - a resource name pattern, not a secret
ALLOWED_MANAGED_POLICIES = {"AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess"}
# Values that must never be in the template (secrets) or are for the local stack only.
FORBIDDEN_ENV = {
    "SIMRENEW_PLATFORM_KEY",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "DDB_ENDPOINT",
    "STRIPE_API_BASE",
}
# What Lambda itself sets in every function (plus credentials, which the probe fakes).
LAMBDA_PROVIDED_ENV = {"AWS_REGION": DUMMY_REGION, "AWS_DEFAULT_REGION": DUMMY_REGION}
# The translator's metrics object complains at exit that nobody published it; nobody should.
logging.getLogger("samtranslator.metrics.metrics").setLevel(logging.ERROR)


# --- loading and translating -------------------------------------------------------------------
class TemplateError(Exception):
    """The template cannot be parsed or translated; the message says why."""


Check = Callable[[str], list[str]]


def _reads_template(what: str) -> Callable[[Check], Check]:
    """A check of a template that does not parse fails once, saying why: "runtime not checked: ..."."""

    def wrap(check: Check) -> Check:
        @wraps(check)
        def checked(text: str) -> list[str]:
            try:
                return check(text)
            except TemplateError as exc:
                return [f"{what} not checked: {exc}"]

        return checked

    return wrap


@lru_cache(maxsize=16)
def _parsed_json(text: str) -> str:
    from cfnlint.decode.decode import decode_str

    template, matches = decode_str(text)
    if matches or template is None:
        raise TemplateError("; ".join(str(m) for m in matches) or "empty template")
    return json.dumps(template)  # plain dicts and lists, intrinsic functions in long form


def parse(text: str) -> dict[str, Any]:
    """The template as plain data (`!GetAtt A.B` becomes {"Fn::GetAtt": ["A", "B"]})."""
    data = json.loads(_parsed_json(text))
    assert isinstance(data, dict)
    return data


class OfflinePolicyLoader:
    """Stands in for samtranslator's ManagedPolicyLoader (which lists policies through IAM):
    maps each managed policy *name* the template uses to its AWS ARN."""

    def __init__(self, template: dict[str, Any]) -> None:
        self._template = template

    def load(self) -> dict[str, str]:
        names: set[str] = set()
        sections = [self._template.get("Globals", {}).get("Function", {})]
        sections += [r.get("Properties", {}) for r in self._template.get("Resources", {}).values()]
        for props in sections:
            policies = props.get("Policies", [])
            for policy in policies if isinstance(policies, list) else [policies]:
                if isinstance(policy, str) and not policy.startswith("arn:"):
                    names.add(policy)
        return {name: f"arn:aws:iam::aws:policy/{name}" for name in sorted(names)}


def _with_fake_s3_locations(template: dict[str, Any]) -> dict[str, Any]:
    """Local CodeUri/ContentUri folders (which `sam build` packages) as s3://local-path/<folder>."""
    fragment = copy.deepcopy(template)
    sections = [("CodeUri", fragment.get("Globals", {}).get("Function", {}))]
    for resource in fragment.get("Resources", {}).values():
        props = resource.get("Properties", {})
        sections += [("CodeUri", props), ("ContentUri", props)]
    for key, props in sections:
        value = props.get(key)
        if isinstance(value, str) and not value.startswith("s3://"):
            props[key] = f"s3://{LOCAL_CODE_BUCKET}/{value}"
    return fragment


@contextmanager
def _some_region() -> Iterator[None]:
    """The translator asks boto3 for a region (it only names the partition); offline, any will do."""
    if os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"):
        yield
        return
    os.environ["AWS_DEFAULT_REGION"] = DUMMY_REGION
    try:
        yield
    finally:
        os.environ.pop("AWS_DEFAULT_REGION", None)


@lru_cache(maxsize=16)
def _transformed_json(text: str) -> str:
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.translator.transform import transform

    template = parse(text)
    try:
        with _some_region():
            out = transform(_with_fake_s3_locations(template), {}, OfflinePolicyLoader(template))  # type: ignore[arg-type]
    except InvalidDocumentException as exc:
        raise TemplateError("; ".join(c.message for c in exc.causes)) from exc
    return json.dumps(out)


def transformed(text: str) -> dict[str, Any]:
    """The plain CloudFormation the SAM translator makes of the template (offline)."""
    data = json.loads(_transformed_json(text))
    assert isinstance(data, dict)
    return data


# --- 1 and 2: AWS's tools -----------------------------------------------------------------------
@lru_cache(maxsize=16)
def _lint(text: str) -> tuple[str, ...]:
    from cfnlint.api import lint

    return tuple(f"cfn-lint {m.rule.id} line {m.linenumber}: {m.message}" for m in lint(text))


def check_cfn_lint(text: str) -> list[str]:
    """cfn-lint's errors and warnings (its default rule set)."""
    return list(_lint(text))


def check_sam_translate(text: str) -> list[str]:
    """The translator accepts the template, and every name the result refers to exists
    (cfn-lint does not see a Ref to nothing inside Globals)."""
    try:
        out = transformed(text)
    except TemplateError as exc:
        return [f"SAM translator: {exc}"]
    if "Transform" in out or any(t.startswith("AWS::Serverless::") for t in _types(out)):
        return ["SAM translator left serverless resources untranslated"]
    known = set(out.get("Parameters", {})) | set(out.get("Resources", {})) | PSEUDO_PARAMETERS
    return [
        f"refers to {name!r}, which is neither a parameter nor a resource" for name in sorted(_references(out) - known)
    ]


PSEUDO_PARAMETERS = {
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
}


def _references(node: Any) -> set[str]:
    """Names used by Ref, Fn::GetAtt and Fn::Sub anywhere under node."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= _references(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                first = value[0] if isinstance(value, list) else str(value).split(".")[0]
                if isinstance(first, str):
                    found.add(first)
            elif key == "Fn::Sub":
                body, variables = (value[0], value[1]) if isinstance(value, list) else (value, {})
                names = {m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", str(body))}
                found |= names - set(variables)
                found |= _references(variables)
            else:
                found |= _references(value)
    return found


def _types(template: dict[str, Any]) -> list[str]:
    return [str(r.get("Type", "")) for r in template.get("Resources", {}).values()]


# --- functions: what the template gives each one ------------------------------------------------
@dataclass(frozen=True)
class FunctionSpec:
    name: str  # logical id
    handler: str
    code_dir: str  # relative to the repo root
    layer_dirs: tuple[str, ...]
    runtime: str
    architectures: tuple[str, ...]
    env: tuple[tuple[str, Any], ...]  # as written (values may be intrinsic functions)

    def resolved_env(self, template: dict[str, Any]) -> dict[str, str]:
        return {k: _dummy_value(v, template) for k, v in self.env}


def _local_path(location: Any) -> str | None:
    if isinstance(location, dict) and location.get("S3Bucket") == LOCAL_CODE_BUCKET:
        return str(location.get("S3Key", ""))
    return None


def functions(text: str) -> list[FunctionSpec]:
    out = transformed(text)
    resources = out.get("Resources", {})
    specs = []
    for name, resource in resources.items():
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        props = resource.get("Properties", {})
        layer_dirs = []
        for layer in props.get("Layers", []):
            ref = layer.get("Ref") if isinstance(layer, dict) else None
            content = resources.get(ref, {}).get("Properties", {}).get("Content") if ref else None
            path = _local_path(content)
            if path is not None:
                layer_dirs.append(path)
        specs.append(
            FunctionSpec(
                name=name,
                handler=str(props.get("Handler", "")),
                code_dir=_local_path(props.get("Code")) or "",
                layer_dirs=tuple(layer_dirs),
                runtime=str(props.get("Runtime", "")),
                architectures=tuple(props.get("Architectures", ["x86_64"])),
                env=tuple(sorted(props.get("Environment", {}).get("Variables", {}).items())),
            )
        )
    return sorted(specs, key=lambda s: s.name)


def _dummy_value(value: Any, template: dict[str, Any]) -> str:
    """A stand-in for an environment value: literals as written, parameters at their
    default, anything CloudFormation computes (Ref, GetAtt, Sub...) as a non-empty marker."""
    if isinstance(value, str | int | float | bool):
        return str(value)
    if isinstance(value, dict) and set(value) == {"Ref"}:
        param = template.get("Parameters", {}).get(value["Ref"])
        if param is not None and str(param.get("Default", "")):
            return str(param["Default"])
        return f"<{value['Ref']}>"
    return f"<{next(iter(value), 'value') if isinstance(value, dict) else 'value'}>"


# --- 3a: handlers and environment, probed in the code ---------------------------------------------
PROBE = textwrap.dedent(
    """
    import importlib, json, sys, traceback
    module_name, attr = sys.argv[1], sys.argv[2]
    report = {"handler": None, "root": None, "config": None, "services": None}
    def last_line():
        return traceback.format_exc().strip().splitlines()[-1]
    try:
        module = importlib.import_module(module_name)
    except BaseException:
        report["handler"] = "importing " + module_name + " failed: " + last_line()
        print(json.dumps(report)); sys.exit(0)
    target = getattr(module, attr, None)
    if target is None:
        report["handler"] = module_name + " has no attribute " + repr(attr)
    elif not callable(target):
        report["handler"] = module_name + "." + attr + " is not callable"
    from simrenew.config import load_config
    from simrenew.bootstrap import NEEDS, ROOTS
    values = list(vars(module).values())
    roots = [name for name, build in ROOTS.items() if any(v is build for v in values)]
    report["root"] = roots[0] if len(roots) == 1 else None
    if len(roots) > 1:
        report["services"] = "builds more than one composition root: " + ", ".join(roots)
    if report["root"]:
        try:
            config = load_config(needs=NEEDS[report["root"]])
        except BaseException:
            report["config"] = last_line()
        else:
            try:
                ROOTS[report["root"]](config)
            except BaseException:
                report["services"] = last_line()
    print(json.dumps(report))
    """
)


@dataclass
class Probe:
    function: str
    handler: str | None = None  # failure text, None when the handler resolves
    root: str | None = None  # the composition root its module builds (bootstrap.ROOTS)
    config: str | None = None
    services: str | None = None
    crashed: str | None = None


def _probe_env(spec: FunctionSpec, template: dict[str, Any]) -> dict[str, str]:
    paths = [str(ROOT / spec.code_dir), *(str(ROOT / d) for d in spec.layer_dirs)]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join(paths),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONSAFEPATH": "1",  # no current directory on the path: only what Lambda would see
        # Fake credentials and no instance metadata: nothing may reach AWS from a probe.
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        **LAMBDA_PROVIDED_ENV,
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
    }
    env.update(spec.resolved_env(template))
    return env


def _probe(spec: FunctionSpec, template: dict[str, Any]) -> Probe:
    module_name, _, attr = spec.handler.rpartition(".")
    if not module_name or not spec.code_dir:
        return Probe(spec.name, handler=f"Handler {spec.handler!r} / CodeUri {spec.code_dir!r} cannot be resolved")
    if not (ROOT / spec.code_dir).is_dir():
        return Probe(spec.name, handler=f"CodeUri {spec.code_dir} is not a folder of this repository")
    try:
        run = subprocess.run(
            [sys.executable, "-c", PROBE, module_name, attr],
            env=_probe_env(spec, template),
            cwd=ROOT / spec.code_dir,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        found = json.loads(run.stdout.strip().splitlines()[-1])
    except (subprocess.TimeoutExpired, ValueError, IndexError) as exc:
        return Probe(spec.name, crashed=f"probe failed: {exc}")
    return Probe(spec.name, **found)


_PROBED: dict[str, Probe] = {}  # by everything a probe depends on, so edited copies re-probe only what changed


def _probe_once(spec: FunctionSpec, template: dict[str, Any]) -> Probe:
    key = json.dumps([spec.name, spec.handler, spec.code_dir, spec.layer_dirs, _probe_env(spec, template)])
    if key not in _PROBED:
        _PROBED[key] = _probe(spec, template)
    return _PROBED[key]


@lru_cache(maxsize=16)
def _probes(text: str) -> tuple[Probe, ...]:
    template = parse(text)
    specs = functions(text)
    with ThreadPoolExecutor(max_workers=max(1, len(specs))) as pool:
        return tuple(pool.map(lambda s: _probe_once(s, template), specs))


@_reads_template("handlers")
def check_handlers(text: str) -> list[str]:
    """Every function's Handler resolves to a callable in its CodeUri folder."""
    probes = _probes(text)
    failures = [f"{p.function}: {p.crashed}" for p in probes if p.crashed]
    failures += [f"{p.function}: Handler does not resolve: {p.handler}" for p in probes if p.handler]
    return failures or ([] if probes else ["no functions found"])


@_reads_template("environment")
def check_environment(text: str) -> list[str]:
    """Every function builds its composition root, and its environment is exactly what that root reads."""
    template = parse(text)
    specs = functions(text)
    probes = {p.function: p for p in _probes(text)}
    failures = []
    for spec in specs:
        env = spec.resolved_env(template)
        failures += [
            f"{spec.name}: {name} must not be set in the template (a secret or local-only)"
            for name in sorted(FORBIDDEN_ENV & set(env))
        ]
        if env.get("SIMRENEW_ENV") != "aws":
            failures.append(f"{spec.name}: SIMRENEW_ENV must be 'aws', not {env.get('SIMRENEW_ENV')!r}")
        failures += _root_environment(spec.name, probes[spec.name], env)
        worker = env.get("IMPORT_WORKER_FUNCTION")
        if worker is not None and not _names_a_function(dict(spec.env)["IMPORT_WORKER_FUNCTION"], template):
            failures.append(f"{spec.name}: IMPORT_WORKER_FUNCTION does not name a function of this template")
    return failures


# Set on every function beside what the roots read: Powertools' service name (the logger's).
NOT_READ_BY_ROOTS = {"POWERTOOLS_SERVICE_NAME"}


def _root_environment(name: str, probe: Probe, env: dict[str, str]) -> list[str]:
    """The function's environment against what its root reads (simrenew/bootstrap.py NEEDS)."""
    from simrenew.bootstrap import NEEDS
    from simrenew.config import COMMON

    if probe.root is None:
        why = probe.handler or probe.services or "none"  # an import that failed says why (a missing variable)
        return [f"{name}: its module builds no composition root of simrenew/bootstrap.py ({why})"]
    failures = []
    if probe.config:
        failures.append(f"{name}: the module reads config at import and fails: {probe.config}")
    if probe.services:
        failures.append(f"{name}: build_{probe.root}() fails with its environment: {probe.services}")
    wanted = NEEDS[probe.root].aws_variables() | {"SIMRENEW_ENV", "TABLE_NAME", "LOG_LEVEL"}
    required = aws_required_variables()
    for missing in sorted(wanted - set(env)):
        where = f"{required[missing]}" if missing in required else "simrenew/config.py"
        failures.append(f"{name}: builds services, which need {missing} in AWS ({where})")
    for extra in sorted(set(env) - wanted - set(COMMON) - NOT_READ_BY_ROOTS - FORBIDDEN_ENV):
        failures.append(f"{name}: {extra} is set, but build_{probe.root}() never reads it")
    return failures


_REQUIRED_IN_AWS = re.compile(r"""ConfigError\(f?["']([A-Z][A-Z0-9_]*) is required in AWS["']\)""")


def aws_required_variables() -> dict[str, str]:
    """Variables the layer needs in AWS only, some of them on first use rather than at start
    (the Stripe keys): every `ConfigError("<NAME> is required in AWS")` in the layer's code,
    with the file that raises it. A root whose groups name one needs it in its environment."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "shared").rglob("*.py")):
        for name in _REQUIRED_IN_AWS.findall(path.read_text(encoding="utf-8")):
            found.setdefault(name, str(path.relative_to(ROOT)))
    return found


def _names_a_function(value: Any, template: dict[str, Any]) -> bool:
    resources = template.get("Resources", {})
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return bool(resources.get(value["Ref"], {}).get("Type") == "AWS::Serverless::Function")
    return any(
        r.get("Type") == "AWS::Serverless::Function" and r.get("Properties", {}).get("FunctionName") == value
        for r in resources.values()
    )


@_reads_template("runtime")
def check_runtime(text: str) -> list[str]:
    """Python runtime equal to the one running the tests, arm64, on functions and the layer."""
    specs = functions(text)
    template = parse(text)
    wanted = f"python{sys.version_info.major}.{sys.version_info.minor}"
    failures = [f"{s.name}: Runtime {s.runtime!r}, tests run on {wanted}" for s in specs if s.runtime != wanted]
    failures += [
        f"{s.name}: Architectures {list(s.architectures)}, want arm64" for s in specs if s.architectures != ("arm64",)
    ]
    for name, resource in template.get("Resources", {}).items():
        if resource.get("Type") == "AWS::Serverless::LayerVersion":
            props = resource.get("Properties", {})
            if wanted not in props.get("CompatibleRuntimes", []):
                failures.append(f"{name}: CompatibleRuntimes lacks {wanted}")
            failures += _build_method(name, resource, str(props.get("ContentUri", "")), wanted)
        elif resource.get("Type") == "AWS::Serverless::Function":
            failures += _build_method(name, resource, str(resource.get("Properties", {}).get("CodeUri", "")), wanted)
    return failures


def _build_method(name: str, resource: dict[str, Any], folder: str, runtime: str) -> list[str]:
    """A folder with a Makefile (both layers, the api) is built by it, which compiles its bytecode
    (Lambda's file system is read-only: code shipped without .pyc is compiled at every cold start;
    SAM's Python builder ships none); the rest by `sam build`'s Python builder (a function's one
    small app.py, shipped as it is)."""
    method = resource.get("Metadata", {}).get("BuildMethod")
    makefile = ROOT / folder / "Makefile"
    if not makefile.exists():
        is_layer = resource.get("Type") == "AWS::Serverless::LayerVersion"
        if method == runtime or (method is None and not is_layer):
            return []
        return [f"{name}: Metadata.BuildMethod should be {runtime} ({folder} has no Makefile)"]
    if method != "makefile":
        return [f"{name}: Metadata.BuildMethod should be makefile ({folder}Makefile compiles the bytecode)"]
    target = f"build-{name}:"
    if not any(line.startswith(target) for line in makefile.read_text().splitlines()):
        return [f"{name}: {folder}Makefile has no {target} target, which `sam build` runs"]
    return []


def layer_warnings(text: str) -> list[str]:
    """Not failures: what `sam build` would quietly get wrong."""
    warnings = []
    for name, resource in parse(text).get("Resources", {}).items():
        content = resource.get("Properties", {}).get("ContentUri")
        is_layer = resource.get("Type") == "AWS::Serverless::LayerVersion" and isinstance(content, str)
        folder = ROOT / str(content)
        python_built = resource.get("Metadata", {}).get("BuildMethod", "").startswith("python")
        makefile = folder / "Makefile"
        installs = python_built or (makefile.exists() and "requirements.txt" in makefile.read_text())
        if is_layer and installs and not (folder / "requirements.txt").exists():
            warnings.append(
                f"{name}: {content}requirements.txt is missing, so `sam build` ships the layer without "
                "its third-party packages (pynamodb, chalice, stripe, aws-lambda-powertools, ...)"
            )
    return warnings


# --- 3b: the table ---------------------------------------------------------------------------------
_ATTRIBUTE_TYPES = {"UnicodeAttribute": "S", "NumberAttribute": "N", "BinaryAttribute": "B"}


def model_schema() -> dict[str, Any]:
    """Keys, indexes, key attribute types and TTL attribute, as the PynamoDB models declare them."""
    from pynamodb.attributes import TTLAttribute
    from pynamodb.indexes import GlobalSecondaryIndex

    from simrenew.adapters.dynamodb.models import Item

    attributes = Item.get_attributes()
    key_names = [Item._hash_keyname, Item._range_keyname]
    indexes = {}
    for index in (v for v in vars(Item).values() if isinstance(v, GlobalSecondaryIndex)):
        schema = index._get_schema()
        keys = {k["AttributeName"]: k["KeyType"] for k in schema["key_schema"]}
        key_names += list(keys)
        projection = {"AllProjection": "ALL", "IncludeProjection": "INCLUDE", "KeysOnlyProjection": "KEYS_ONLY"}.get(
            type(index.Meta.projection).__name__, type(index.Meta.projection).__name__
        )
        indexes[index.Meta.index_name] = {"keys": keys, "projection": projection}
    types = {}
    for name in key_names:
        attr = next(a for a in attributes.values() if a.attr_name == name)
        types[name] = _ATTRIBUTE_TYPES.get(type(attr).__name__, type(attr).__name__)
    ttl = [a.attr_name for a in attributes.values() if isinstance(a, TTLAttribute)]
    return {
        "keys": {Item._hash_keyname: "HASH", Item._range_keyname: "RANGE"},
        "indexes": indexes,
        "attribute_types": types,
        "ttl": ttl[0] if len(ttl) == 1 else ttl,
    }


def template_schema(props: dict[str, Any]) -> dict[str, Any]:
    return {
        "keys": {k["AttributeName"]: k["KeyType"] for k in props.get("KeySchema", [])},
        "indexes": {
            g["IndexName"]: {
                "keys": {k["AttributeName"]: k["KeyType"] for k in g["KeySchema"]},
                "projection": g.get("Projection", {}).get("ProjectionType"),
            }
            for g in props.get("GlobalSecondaryIndexes", [])
        },
        "attribute_types": {a["AttributeName"]: a["AttributeType"] for a in props.get("AttributeDefinitions", [])},
        "ttl": props.get("TimeToLiveSpecification", {}).get("AttributeName"),
    }


def _diff(label: str, want: Any, got: Any) -> list[str]:
    if isinstance(want, dict) and isinstance(got, dict):
        out = []
        for key in sorted(set(want) | set(got), key=str):
            if key not in got:
                out.append(f"{label}.{key}: in the models, not in the template")
            elif key not in want:
                out.append(f"{label}.{key}: in the template, not in the models")
            else:
                out += _diff(f"{label}.{key}", want[key], got[key])
        return out
    return [] if want == got else [f"{label}: models say {want!r}, template says {got!r}"]


@_reads_template("table")
def check_table(text: str) -> list[str]:
    """The table equals the PynamoDB models, and the local stack builds it from this definition."""
    resource = parse(text).get("Resources", {}).get(TABLE_RESOURCE)
    if not resource or resource.get("Type") != "AWS::DynamoDB::Table":
        return [f"{TABLE_RESOURCE} (AWS::DynamoDB::Table) is missing"]
    props = resource.get("Properties", {})
    failures = _diff(TABLE_RESOURCE, model_schema(), template_schema(props))
    ttl = props.get("TimeToLiveSpecification", {})
    required = {
        "BillingMode is PAY_PER_REQUEST": props.get("BillingMode") == "PAY_PER_REQUEST",
        "point-in-time recovery is on": props.get("PointInTimeRecoverySpecification", {}).get(
            "PointInTimeRecoveryEnabled"
        )
        is True,
        "deletion protection is on": props.get("DeletionProtectionEnabled") is True,
        "TTL is enabled": ttl.get("Enabled") is True,
        "DeletionPolicy is Retain": resource.get("DeletionPolicy") == "Retain",
        "a NEW_IMAGE stream (the outbox)": props.get("StreamSpecification", {}).get("StreamViewType") == "NEW_IMAGE",
    }
    failures += [f"{TABLE_RESOURCE}: want {what}" for what, ok in required.items() if not ok]
    failures += _local_stack_reads(text, props)
    return failures


def _local_stack_reads(text: str, props: dict[str, Any]) -> list[str]:
    """infra/table.py (used by `make dev` and the tests) creates exactly this table."""
    from infra import table

    failures = []
    if table.TEMPLATE.resolve() != TEMPLATE.resolve() or table.TABLE_RESOURCE != TABLE_RESOURCE:
        failures.append(
            f"infra/table.py reads {table.TEMPLATE}#{table.TABLE_RESOURCE}, not {TEMPLATE}#{TABLE_RESOURCE}"
        )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "template.yaml"
        path.write_text(text, encoding="utf-8")
        local = table.create_table_kwargs("x", path)
        local_ttl = table.table_properties(path).get("TimeToLiveSpecification")
    for key in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode"):
        if local.get(key) != props.get(key):
            failures.append(f"infra/table.py creates the local table with another {key} than the template")
    if local_ttl != props.get("TimeToLiveSpecification"):
        failures.append("infra/table.py sets another TTL than the template")
    wanted_stream = props.get("StreamSpecification", {}).get("StreamViewType")
    if local.get("StreamSpecification", {}).get("StreamViewType") != wanted_stream:
        failures.append("infra/table.py creates the local table with another stream than the template")
    return failures


# --- 3c: least privilege -----------------------------------------------------------------------------
def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def function_statements(text: str) -> dict[str, list[dict[str, Any]]]:
    """Each function's inline IAM statements (after translation), by function logical id."""
    out = transformed(text)
    resources = out.get("Resources", {})
    found: dict[str, list[dict[str, Any]]] = {}
    for name, resource in resources.items():
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        role = resource.get("Properties", {}).get("Role", {})
        role_name = role.get("Fn::GetAtt", [None])[0] if isinstance(role, dict) else None
        role_props = resources.get(role_name, {}).get("Properties", {})
        statements = []
        for policy in role_props.get("Policies", []):
            statements += _as_list(policy.get("PolicyDocument", {}).get("Statement", []))
        found[name] = statements
    return found


def function_managed_policies(text: str) -> dict[str, list[str]]:
    out = transformed(text)
    resources = out.get("Resources", {})
    found = {}
    for name, resource in resources.items():
        if resource.get("Type") == "AWS::Lambda::Function":
            role = resource.get("Properties", {}).get("Role", {})
            role_name = role.get("Fn::GetAtt", [None])[0] if isinstance(role, dict) else None
            arns = resources.get(role_name, {}).get("Properties", {}).get("ManagedPolicyArns", [])
            found[name] = [json.dumps(a) if not isinstance(a, str) else a for a in arns]
    return found


def _mentions(value: Any, logical_id: str) -> bool:
    return logical_id in json.dumps(value)


def _carrier_secret_failures(fn: str, actions: list[str], resources: list[Any]) -> list[str]:
    """Carrier account keys: read only where used, created and deleted only by the API, and only
    under the carrier secret prefix."""
    failures = []
    writes_secrets = {"secretsmanager:CreateSecret", "secretsmanager:DeleteSecret"} & set(actions)
    if writes_secrets and fn not in CARRIER_SECRET_WRITERS:
        failures.append(f"{fn}: may {sorted(writes_secrets)} (only {sorted(CARRIER_SECRET_WRITERS)} may)")
    carrier_scoped = [r for r in resources if CARRIER_SECRET_SCOPE in json.dumps(r)]
    if carrier_scoped and fn not in CARRIER_SECRET_READERS:
        failures.append(f"{fn}: may touch carrier account keys (only {sorted(CARRIER_SECRET_READERS)} may)")
    if writes_secrets and (not resources or len(carrier_scoped) != len(resources)):
        failures.append(f"{fn}: {sorted(writes_secrets)} must be scoped to the carrier secret prefix")
    return failures


@_reads_template("permissions")
def check_permissions(text: str) -> list[str]:
    """The issue's least-privilege rules on every function role."""
    statements = function_statements(text)
    managed = function_managed_policies(text)
    failures = []
    for fn, stmts in statements.items():
        for stmt in stmts:
            if stmt.get("Effect") != "Allow":
                continue
            actions = [str(a) for a in _as_list(stmt.get("Action", []))]
            resources = _as_list(stmt.get("Resource", []))
            failures += [f"{fn}: wildcard action {a!r}" for a in actions if a == "*" or a.endswith(":*")]
            if "*" in resources and not set(actions) <= STAR_RESOURCE_ACTIONS:
                failures.append(f"{fn}: Resource '*' for {actions}")
            if "dynamodb:Scan" in actions:
                failures.append(f"{fn}: dynamodb:Scan (the code never scans)")
            reads_platform_key = "secretsmanager:GetSecretValue" in actions and _mentions(
                resources, PLATFORM_KEY_SECRET
            )
            if reads_platform_key and fn not in PLATFORM_KEY_READERS:
                failures.append(f"{fn}: may read {PLATFORM_KEY_SECRET} (only {sorted(PLATFORM_KEY_READERS)} may)")
            failures += _carrier_secret_failures(fn, actions, resources)
            if "sns:Publish" in actions and fn not in SMS_SENDERS:
                failures.append(f"{fn}: may sns:Publish (only {sorted(SMS_SENDERS)} sends SMS)")
            if any(a in ("ses:SendEmail", "ses:SendRawEmail") for a in actions) and fn not in EMAIL_SENDERS:
                failures.append(f"{fn}: may send e-mail (only {sorted(EMAIL_SENDERS)} does)")
        for arn in managed.get(fn, []):
            if not any(arn.endswith(f"/{name}") or f'/{name}"' in arn for name in ALLOWED_MANAGED_POLICIES):
                failures.append(f"{fn}: managed policy {arn} (only logging and tracing are allowed)")
    return failures


# --- 3d: the outbox stream -----------------------------------------------------------------------------
@_reads_template("outbox stream")
def check_outbox_stream(text: str) -> list[str]:
    """The dispatcher reads the table's stream as the outbox needs (see the module docstring)."""
    from infra import outbox_poller

    template = parse(text)
    resources = template.get("Resources", {})
    mappings = {
        name: r.get("Properties", {})
        for name, r in resources.items()
        if r.get("Type") == "AWS::Lambda::EventSourceMapping" and _mentions(r.get("Properties", {}), TABLE_RESOURCE)
    }
    if len(mappings) != 1:
        return [f"want one event source mapping on {TABLE_RESOURCE}'s stream, found {sorted(mappings)}"]
    name, props = next(iter(mappings.items()))
    failures = []
    if not _mentions(props.get("FunctionName"), OUTBOX_FUNCTION):
        failures.append(f"{name}: feeds {props.get('FunctionName')!r}, not {OUTBOX_FUNCTION}")
    if props.get("EventSourceArn") != {"Fn::GetAtt": [TABLE_RESOURCE, "StreamArn"]}:
        failures.append(f"{name}: EventSourceArn is not {TABLE_RESOURCE}.StreamArn")
    if "ReportBatchItemFailures" not in props.get("FunctionResponseTypes", []):
        failures.append(f"{name}: FunctionResponseTypes lacks ReportBatchItemFailures")
    if props.get("BisectBatchOnFunctionError") is not True:
        failures.append(f"{name}: BisectBatchOnFunctionError is not true")
    retries = props.get("MaximumRetryAttempts")
    if not isinstance(retries, int) or not 0 <= retries <= 10:
        failures.append(f"{name}: MaximumRetryAttempts must be a bound (0-10), not {retries!r}")
    if not props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"):
        failures.append(f"{name}: no on-failure destination")
    try:
        patterns = outbox_poller.filter_patterns(props)
    except (ValueError, NotImplementedError) as exc:
        return [*failures, f"{name}: FilterCriteria not understood: {exc}"]
    for label, record, wanted in outbox_poller.FILTER_EXAMPLES:
        if outbox_poller.passes(patterns, record) != wanted:
            failures.append(f"{name}: the filter {'drops' if wanted else 'passes'} {label}")
    return failures


# --- 3e: the fanned-out sweep ----------------------------------------------------------------------------
@_reads_template("sweep fan-out")
def check_sweep_fanout(text: str) -> list[str]:
    """One worker per expiry shard fits the sweep's reserved concurrency; SWEEP_FUNCTION names the
    sweep function; only the API and the sweep function may invoke it."""
    from simrenew.adapters.dynamodb.keys import EXPIRY_SHARDS

    template = parse(text)
    specs = {s.name: s for s in functions(text)}
    statements = function_statements(text)
    failures = []
    props = template.get("Resources", {}).get(SWEEP_FUNCTION, {}).get("Properties", {})
    reserved = props.get("ReservedConcurrentExecutions")
    wanted = EXPIRY_SHARDS + SWEEP_EXTRA_CONCURRENCY
    if not isinstance(reserved, int) or reserved < wanted:
        failures.append(
            f"{SWEEP_FUNCTION}: ReservedConcurrentExecutions {reserved!r}, want at least {wanted} "
            f"({EXPIRY_SHARDS} shard workers + {SWEEP_EXTRA_CONCURRENCY})"
        )
    name = props.get("FunctionName")
    for fn, spec in specs.items():
        value = dict(spec.env).get("SWEEP_FUNCTION")
        if value is not None and value != name:
            failures.append(f"{fn}: SWEEP_FUNCTION {value!r} is not {SWEEP_FUNCTION}'s FunctionName {name!r}")
    for fn, stmts in statements.items():
        for stmt in stmts:
            actions = [str(a) for a in _as_list(stmt.get("Action", []))]
            if stmt.get("Effect") != "Allow" or "lambda:InvokeFunction" not in actions:
                continue
            resources = _as_list(stmt.get("Resource", []))
            targets_sweep = _mentions(resources, SWEEP_FUNCTION) or (
                isinstance(name, dict) and "Fn::Sub" in name and _sub_text(name) in json.dumps(resources)
            )
            if targets_sweep and fn not in SWEEP_INVOKERS:
                failures.append(f"{fn}: may invoke {SWEEP_FUNCTION} (only {sorted(SWEEP_INVOKERS)} may)")
    return failures


def _sub_text(value: dict[str, Any]) -> str:
    sub = value["Fn::Sub"]
    return str(sub[0] if isinstance(sub, list) else sub)


# --- the report ---------------------------------------------------------------------------------------
@dataclass
class Outcome:
    name: str
    failures: list[str]


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(o.failures for o in self.outcomes)

    def render(self) -> str:
        lines = ["template.yaml check"]
        for outcome in self.outcomes:
            lines.append(f"  {'ok  ' if not outcome.failures else 'FAIL'}  {outcome.name}")
            lines += [f"          - {f}" for f in outcome.failures]
        lines += [f"  warn  {w}" for w in self.warnings]
        lines.append("template.yaml: all checks passed" if self.ok else "template.yaml: CHECK FAILED")
        return "\n".join(lines)


CHECKS: list[tuple[str, Callable[[str], list[str]]]] = [
    ("cfn-lint finds nothing", check_cfn_lint),
    ("the SAM translator transforms it (offline)", check_sam_translate),
    ("every Handler resolves to a callable in its CodeUri", check_handlers),
    ("every variable the code requires is set on its function", check_environment),
    ("the table equals the PynamoDB models and the local stack's table", check_table),
    ("runtime equals the tests' Python, arm64", check_runtime),
    ("least privilege per function", check_permissions),
    ("the outbox stream feeds the dispatcher (filter, partial failures, DLQ)", check_outbox_stream),
    ("the sweep fans out: a worker per shard fits; only the API and itself invoke it", check_sweep_fanout),
]


def run_checks(text: str) -> Report:
    report = Report()
    for name, check in CHECKS:
        try:
            failures = check(text)
        except Exception as exc:  # noqa: BLE001 - a check that crashes is a failed check, reported
            failures = [f"check crashed: {type(exc).__name__}: {exc}"]
        report.outcomes.append(Outcome(name, failures))
    with suppress(TemplateError):
        report.warnings = layer_warnings(text)
    return report


def summary(text: str) -> str:
    """Resources by type and each function's permissions (for humans and the closing note)."""
    out = transformed(text)
    lines = ["resources (after translation):"]
    for name, resource in sorted(out.get("Resources", {}).items()):
        lines.append(f"  {name}: {resource.get('Type')}")
    lines.append("function permissions (inline statements; plus AWSLambdaBasicExecutionRole, AWSXrayWriteOnlyAccess):")
    for fn, stmts in sorted(function_statements(text).items()):
        lines.append(f"  {fn}:")
        for stmt in stmts:
            actions = ", ".join(str(a) for a in _as_list(stmt.get("Action", [])))
            resources = ", ".join(_short(r) for r in _as_list(stmt.get("Resource", [])))
            cond = " if " + json.dumps(stmt["Condition"]) if "Condition" in stmt else ""
            lines.append(f"    {stmt.get('Effect')} {actions} on {resources}{cond}")
    return "\n".join(lines)


def _short(resource: Any) -> str:
    if isinstance(resource, str):
        return resource
    if isinstance(resource, dict) and "Ref" in resource:
        return str(resource["Ref"])
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        return ".".join(resource["Fn::GetAtt"])
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        sub = resource["Fn::Sub"]
        return str(sub[0] if isinstance(sub, list) else sub)
    return json.dumps(resource)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    parser.add_argument("--summary", action="store_true", help="also list resources and function permissions")
    args = parser.parse_args(argv)
    text = args.template.read_text(encoding="utf-8")
    report = run_checks(text)
    print(report.render())
    if args.summary and report.ok:
        print(summary(text))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
