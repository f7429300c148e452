"""template.yaml as deployed, offline: the SAM translator's CloudFormation, every intrinsic function
resolved to a fixture value (parameters at their defaults, the account 123456789012 in us-east-1,
resource names as CloudFormation would make them, the secrets' ARNs as moto made them), and the
functions and the layer built in the layout Lambda unpacks.

    build/<Function>/                      CodeUri's files and bytecode        (/var/task)
    build/<Layer>/python/                  the simrenew package and bytecode, (/opt/python)
                                           or the packages layer's requirements.txt, installed

Our code is built as `sam build` builds it (infra/lambda_build.py: a Makefile target, or the
folder copied). shared/packages/Makefile installs Lambda's wheels of the packages layer's
requirements.txt from the index into python/; here each package (and what it
requires, markers evaluated) is linked from this interpreter's site-packages, the same pinned
versions (tests/unit/test_layer_requirements.py keeps requirements.txt equal to the pins), so the
tier needs no network. Nothing else of the test environment is importable in a function.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

from infra import template_check as tc
from infra.lambda_build import build_folder

ROOT = tc.ROOT
PARTITION, REGION, ACCOUNT = "aws", "us-east-1", "123456789012"
STACK = "simrenew-deploytest"
PSEUDO = {
    "AWS::Partition": PARTITION,
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": STACK,
    "AWS::StackId": f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/0000",
    "AWS::NoValue": None,
}
# What Lambda itself sets in a Python 3.11 function's environment (besides the template's variables
# and the role's credentials); the handler and name are filled per function.
LAMBDA_RUNTIME_ENV = {
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
    "LAMBDA_RUNTIME_DIR": "/var/runtime",
    "LANG": "en_US.UTF-8",
    "TZ": ":UTC",
    "PATH": "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin",
    "AWS_ACCESS_KEY_ID": "ASIADEPLOYTEST",
    "AWS_SECRET_ACCESS_KEY": "deploy-test-secret",
    "AWS_SESSION_TOKEN": "deploy-test-token",
}
TRACING_ENV = {"AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR", "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000"}


class Unresolved(Exception):
    pass


@dataclass
class Function:
    name: str  # logical id
    function_name: str  # the deployed name
    arn: str
    handler: str
    code_dir: str
    layer_dirs: tuple[str, ...]
    env: dict[str, str]
    timeout: int
    memory: int
    tracing: bool
    statements: list[dict[str, Any]]  # the role's, resolved, managed policies expanded
    events: dict[str, Any] = field(default_factory=dict)  # the SAM template's Events of the function


class Stack:
    def __init__(self, text: str, overrides: dict[tuple[str, str], str] | None = None) -> None:
        self.text = text
        self.raw = tc.parse(text)
        self.cfn = tc.transformed(text)
        self.resources: dict[str, Any] = self.cfn.get("Resources", {})
        self.overrides = dict(overrides or {})  # (logical id, "Ref" or attribute) -> value

    # --- resolution ---------------------------------------------------------------------------------
    def parameter(self, name: str) -> Any:
        spec = self.cfn.get("Parameters", {}).get(name, {})
        return spec.get("Default", "")

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.cfn.get("Conditions", {})[name]))

    def ref(self, name: str) -> Any:
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self.cfn.get("Parameters", {}):
            return self.parameter(name)
        if (name, "Ref") in self.overrides:
            return self.overrides[(name, "Ref")]
        resource = self.resources.get(name)
        if resource is None:
            raise Unresolved(f"Ref {name}")
        kind, props = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::DynamoDB::Table":
            return (props.get("TableName") and self.resolve(props["TableName"])) or f"{STACK}-{name}-DEPLOYTEST"
        if kind == "AWS::Lambda::Function":
            return self.resolve(props["FunctionName"]) if "FunctionName" in props else f"{STACK}-{name}-DEPLOYTEST"
        if kind == "AWS::S3::Bucket":
            return self.resolve(props["BucketName"]) if "BucketName" in props else f"{STACK}-{name.lower()}-deploytest"
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{self._queue_name(name)}"
        if kind == "AWS::SNS::Topic":
            return f"arn:{PARTITION}:sns:{REGION}:{ACCOUNT}:{STACK}-{name}"
        if kind == "AWS::SecretsManager::Secret":
            return f"arn:{PARTITION}:secretsmanager:{REGION}:{ACCOUNT}:secret:{self.resolve(props['Name'])}-AbCdEf"
        if kind == "AWS::IAM::Role":
            return f"{STACK}-{name}"
        if kind == "AWS::Lambda::LayerVersion":
            return f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:layer:{name}:1"
        return f"{name}-deploytest"

    def _queue_name(self, name: str) -> str:
        props = self.resources[name].get("Properties", {})
        return self.resolve(props["QueueName"]) if "QueueName" in props else f"{STACK}-{name}"

    def get_att(self, name: str, attr: str) -> Any:
        if (name, attr) in self.overrides:
            return self.overrides[(name, attr)]
        resource = self.resources.get(name)
        if resource is None:
            raise Unresolved(f"GetAtt {name}.{attr}")
        kind = resource["Type"]
        if kind == "AWS::DynamoDB::Table":
            arn = f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{self.ref(name)}"
            return {"Arn": arn, "StreamArn": f"{arn}/stream/2026-01-01T00:00:00.000"}[attr]
        if kind == "AWS::Lambda::Function" and attr == "Arn":
            return f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{self.ref(name)}"
        if kind == "AWS::S3::Bucket":
            bucket = self.ref(name)
            return {
                "Arn": f"arn:{PARTITION}:s3:::{bucket}",
                "DomainName": f"{bucket}.s3.amazonaws.com",
                "RegionalDomainName": f"{bucket}.s3.{REGION}.amazonaws.com",
            }[attr]
        if kind == "AWS::SQS::Queue":
            queue = self._queue_name(name)
            return {"Arn": f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:{queue}", "QueueName": queue}[attr]
        if kind == "AWS::IAM::Role" and attr == "Arn":
            return f"arn:{PARTITION}:iam::{ACCOUNT}:role/{self.ref(name)}"
        return f"{name}.{attr}-deploytest"

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.resolve(n) for n in node) if v is not None]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, value),) = node.items()
            if key == "Ref":
                return self.ref(value)
            if key == "Fn::GetAtt":
                parts = value if isinstance(value, list) else str(value).split(".", 1)
                return self.get_att(parts[0], parts[1])
            if key == "Fn::Sub":
                return self._sub(value)
            if key == "Fn::Join":
                return str(value[0]).join(str(v) for v in self.resolve(value[1]))
            if key == "Fn::Select":
                return self.resolve(value[1])[int(self.resolve(value[0]))]
            if key == "Fn::Split":
                return str(self.resolve(value[1])).split(value[0])
            if key == "Fn::If":
                return self.resolve(value[1] if self.condition(value[0]) else value[2])
            if key == "Fn::Equals":
                return self.resolve(value[0]) == self.resolve(value[1])
            if key == "Fn::Not":
                return not self.resolve(value[0])
            if key == "Fn::And":
                return all(self.resolve(v) for v in value)
            if key == "Fn::Or":
                return any(self.resolve(v) for v in value)
            if key == "Condition":
                return self.condition(value)
            if key.startswith("Fn::"):
                raise Unresolved(key)
        return {k: self.resolve(v) for k, v in node.items()}

    def _sub(self, value: Any) -> str:
        body, variables = (value[0], value[1]) if isinstance(value, list) else (value, {})
        local = {k: self.resolve(v) for k, v in variables.items()}

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in local:
                return str(local[name])
            if "." in name and name not in PSEUDO:
                logical, attr = name.split(".", 1)
                return str(self.get_att(logical, attr))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", one, str(body))

    # --- functions ----------------------------------------------------------------------------------
    @cached_property
    def functions(self) -> dict[str, Function]:
        statements = tc.function_statements(self.text)
        managed = tc.function_managed_policies(self.text)
        raw_resources = self.raw.get("Resources", {})
        out = {}
        for spec in tc.functions(self.text):
            props = self.resources[spec.name].get("Properties", {})
            policy = [self.resolve(s) for s in statements.get(spec.name, [])]
            for arn in managed.get(spec.name, []):
                policy += _managed(str(self.resolve(json.loads(arn) if arn.startswith("{") else arn)))
            name = str(self.ref(spec.name))
            out[spec.name] = Function(
                name=spec.name,
                function_name=name,
                arn=str(self.get_att(spec.name, "Arn")),
                handler=spec.handler,
                code_dir=spec.code_dir,
                layer_dirs=spec.layer_dirs,
                env={k: str(self.resolve(v)) for k, v in spec.env},
                timeout=int(props.get("Timeout", 3)),
                memory=int(props.get("MemorySize", 128)),
                tracing=(props.get("TracingConfig") or {}).get("Mode") == "Active",
                statements=policy,
                events=raw_resources.get(spec.name, {}).get("Properties", {}).get("Events", {}) or {},
            )
        return out

    def function_named(self, name_or_arn: str) -> Function | None:
        for fn in self.functions.values():
            if name_or_arn in (fn.function_name, fn.arn) or name_or_arn.endswith(f":function:{fn.function_name}"):
                return fn
        return None

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {n: r for n, r in self.resources.items() if r.get("Type") == kind}


def _managed(arn: str) -> list[dict[str, Any]]:
    from tests.deploy.iam import MANAGED_POLICIES

    name = arn.rsplit("/", 1)[-1]
    if name not in MANAGED_POLICIES:
        raise Unresolved(f"managed policy {arn}: add its statements to tests/deploy/iam.py MANAGED_POLICIES")
    return MANAGED_POLICIES[name]


# --- the build -----------------------------------------------------------------------------------------
def _requirement_closure(requirements: Path) -> list[metadata.Distribution]:
    """The distributions requirements.txt names and everything they require (markers evaluated
    for this interpreter, extras not taken), as pip would install them into python/."""
    from packaging.requirements import Requirement

    pending = [
        Requirement(line.split("#", 1)[0].strip())
        for line in requirements.read_text(encoding="utf-8").splitlines()
        if line.split("#", 1)[0].strip()
    ]
    seen: dict[str, metadata.Distribution] = {}
    while pending:
        req = pending.pop()
        key = re.sub(r"[-_.]+", "-", req.name).lower()
        if key in seen or (req.marker is not None and not req.marker.evaluate({"extra": ""})):
            continue
        dist = metadata.distribution(req.name)
        seen[key] = dist
        for raw in dist.requires or []:
            child = Requirement(raw)
            if child.marker is None or child.marker.evaluate({"extra": ""}):
                pending.append(child)
    return list(seen.values())


def _top_level(dist: metadata.Distribution) -> set[Path]:
    """The site-packages entries a distribution installed (packages, modules, its dist-info)."""
    base = Path(str(dist.locate_file("")))
    entries = set()
    for file in dist.files or []:
        parts = Path(str(file)).parts
        if parts and parts[0] not in ("..", "bin", "__pycache__") and not parts[0].endswith(".pth"):
            entries.add(base / parts[0])
    return entries


def build(stack: Stack, out: Path) -> dict[str, Path]:
    """Each function's folder and each layer's folder, as `sam build` lays them out: our code by
    its folder's Makefile (the same targets `sam build` runs: the files and their bytecode), the
    packages layer linked from this interpreter (see above). Returns the folder per code path (a
    function's CodeUri, a layer's ContentUri)."""
    out.mkdir(parents=True, exist_ok=True)
    built: dict[str, Path] = {}
    names = {
        str(r.get("Properties", {}).get("ContentUri")): n
        for n, r in stack.raw.get("Resources", {}).items()
        if r.get("Type") == "AWS::Serverless::LayerVersion"
    }
    for fn in stack.functions.values():
        for layer in fn.layer_dirs:
            if layer in built:
                continue
            root = out / ("layer-" + re.sub(r"\W+", "-", layer).strip("-"))
            requirements = ROOT / layer / "requirements.txt"
            if requirements.exists():
                target = root / "python"
                target.mkdir(parents=True)
                for dist in _requirement_closure(requirements):
                    for entry in _top_level(dist):
                        link = target / entry.name
                        if entry.exists() and not link.exists():
                            os.symlink(entry, link)
            else:
                build_folder(layer.rstrip("/"), names[layer], root)
            built[layer] = root / "python"
        if fn.code_dir not in built:
            target = out / ("fn-" + re.sub(r"\W+", "-", fn.code_dir).strip("-"))
            build_folder(fn.code_dir.rstrip("/"), fn.name, target)
            built[fn.code_dir] = target
    return built


def lambda_env(fn: Function, task_root: Path) -> dict[str, str]:
    """Exactly what the function's process sees in AWS: Lambda's own variables, the template's."""
    env = dict(LAMBDA_RUNTIME_ENV)
    env |= {
        "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]deploytest",
        "LAMBDA_TASK_ROOT": str(task_root),
        "_HANDLER": fn.handler,
    }
    if fn.tracing:
        env |= TRACING_ENV
    env |= fn.env
    return env
