"""template.yaml passes cfn-lint and the SAM translator and matches the code; breaking any
cross-check on a copy of its text makes `python -m infra.template_check` fail."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra import template_check as tc

TEXT = tc.TEMPLATE.read_text(encoding="utf-8")


def edited(pattern: str, replacement: str, text: str = TEXT) -> str:
    """The template text with one regex match replaced (fails if it does not match once)."""
    new, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    assert count == 1, f"{pattern!r} matched {count} times"
    return new


def resource_block(name: str) -> str:
    """Regex for a top-level resource's whole block (up to the next resource)."""
    return rf"^  {name}:\n(?:(?:    .*|)\n)+?(?=  \S)"


def test_the_real_template_passes_every_check() -> None:
    report = tc.run_checks(TEXT)
    assert report.ok, report.render()
    assert [o.name for o in report.outcomes] == [name for name, _ in tc.CHECKS]


def test_the_check_runs_cfn_lint_and_the_translator_for_real() -> None:
    out = tc.transformed(TEXT)
    types = {r["Type"] for r in out["Resources"].values()}
    assert {"AWS::Lambda::Function", "AWS::ApiGateway::RestApi", "AWS::CloudFront::Distribution"} <= types
    assert not any(t.startswith("AWS::Serverless::") for t in types)
    assert any(
        "NoSuchTable" in f
        for f in tc.check_cfn_lint(edited(r"^(    Value: )!Ref SimRenewTable$", r"\1!Ref NoSuchTable"))
    )
    # cfn-lint does not follow a Ref inside Globals; the translated template is checked for it.
    in_globals = edited(r"^(        TABLE_NAME: )!Ref SimRenewTable$", r"\1!Ref NoSuchTable")
    assert any("NoSuchTable" in f for f in tc.check_sam_translate(in_globals))
    bad_event = edited(r"^(      Events:\n        Stripe:\n          Type: )Api$", r"\1NotAnEventSource")
    assert any("SAM translator" in f for f in tc.check_sam_translate(bad_event))


def test_every_function_is_probed() -> None:
    assert {s.name for s in tc.functions(TEXT)} == {
        "ApiFunction",
        "WebhookFunction",
        "SweepFunction",
        "ImportWorkerFunction",
        "DispatcherFunction",
        "CarrierSyncFunction",
    }


def test_a_renamed_handler_fails() -> None:
    text = edited(r"^(      CodeUri: functions/webhook/\n      Handler: app\.)handler$", r"\1handle_it")
    failures = tc.check_handlers(text)
    assert failures and all("WebhookFunction" in f for f in failures), failures


def test_a_renamed_chalice_app_fails() -> None:
    text = edited(r"^(      CodeUri: functions/api/\n      Handler: app\.)app$", r"\1application")
    assert any("ApiFunction" in f and "application" in f for f in tc.check_handlers(text))


def test_a_wrong_code_folder_fails() -> None:
    text = edited(r"^(      CodeUri: functions/)sweep/$", r"\1sweeper/")
    assert any("SweepFunction" in f for f in tc.check_handlers(text))


def test_dropping_an_env_var_from_the_globals_fails() -> None:
    text = edited(r"^        TABLE_NAME: !Ref SimRenewTable\n", "")
    failures = tc.check_environment(text)
    for fn in ("ApiFunction", "WebhookFunction", "SweepFunction", "ImportWorkerFunction"):
        assert any(fn in f and "TABLE_NAME" in f for f in failures), failures


def test_dropping_an_env_var_from_one_function_fails() -> None:
    # The webhook's root reads the Stripe secret's ARN (to verify Stripe's signatures).
    block = re.search(resource_block("WebhookFunction"), TEXT, flags=re.MULTILINE)
    assert block
    webhook = edited(r"^ +STRIPE_SECRET_ARN: .*\n", "", block.group(0))
    failures = tc.check_environment(TEXT.replace(block.group(0), webhook))
    assert failures and all(f.startswith("WebhookFunction") for f in failures), failures
    assert any("STRIPE_SECRET_ARN" in f for f in failures)


def test_a_variable_a_function_does_not_read_fails() -> None:
    # The webhook hands nothing to the import worker: naming it there is what its root never reads.
    block = re.search(resource_block("WebhookFunction"), TEXT, flags=re.MULTILINE)
    assert block
    webhook = edited(
        r"^( +)(ALIPAY_SECRET_ARN: .*\n)", r"\1\2\1IMPORT_WORKER_FUNCTION: !Ref ImportWorkerFunction\n", block.group(0)
    )
    failures = tc.check_environment(TEXT.replace(block.group(0), webhook))
    assert failures == ["WebhookFunction: IMPORT_WORKER_FUNCTION is set, but build_webhook() never reads it"], failures


def test_a_variable_read_only_on_first_use_is_required_too() -> None:
    # The Stripe secret is read on the first payment, long after start-up.
    assert "STRIPE_SECRET_ARN" in tc.aws_required_variables()
    block = re.search(resource_block("ApiFunction"), TEXT, flags=re.MULTILINE)
    assert block
    api = edited(r"^ +STRIPE_SECRET_ARN: .*\n", "", block.group(0))
    failures = tc.check_environment(TEXT.replace(block.group(0), api))
    assert failures == [
        "ApiFunction: builds services, which need STRIPE_SECRET_ARN in AWS (shared/simrenew/adapters/payments.py)"
    ], failures


def test_the_sweep_environment_is_what_its_root_reads() -> None:
    block = re.search(resource_block("SweepFunction"), TEXT, flags=re.MULTILINE)
    assert block
    # Without the SES From address its reminders cannot go out by e-mail: named, with the raiser.
    sweep = edited(r"^ +SENDER_EMAIL: .*\n", "", block.group(0))
    failures = tc.check_environment(TEXT.replace(block.group(0), sweep))
    assert any(f.startswith("SweepFunction") and "SENDER_EMAIL" in f for f in failures), failures
    # The platform key is the API's alone: the sweep's root does not read it.
    sweep = edited(
        r"^( +)(SENDER_EMAIL: .*\n)", r"\1\2\1PLATFORM_KEY_SECRET_ARN: !Ref PlatformKeySecret\n", block.group(0)
    )
    failures = tc.check_environment(TEXT.replace(block.group(0), sweep))
    assert failures == ["SweepFunction: PLATFORM_KEY_SECRET_ARN is set, but build_sweep() never reads it"], failures


def test_a_function_that_builds_no_root_fails() -> None:
    # A handler module that imports no build_* of simrenew/bootstrap.py (say, build_services, the
    # whole graph): what it reads cannot be checked, so it fails.
    probe = tc.Probe("CarrierSyncFunction", root=None)
    failures = tc._root_environment("CarrierSyncFunction", probe, {"SIMRENEW_ENV": "aws", "TABLE_NAME": "t"})
    assert failures == ["CarrierSyncFunction: its module builds no composition root of simrenew/bootstrap.py (none)"]


def test_a_secret_value_in_the_template_fails() -> None:
    text = edited(
        r"^(          SENDER_EMAIL: .*\n)(?=          # Cancelling)",  # the sweep's
        r"\1          SIMRENEW_PLATFORM_KEY: srp_not_in_a_template_please\n",
    )
    failures = tc.check_environment(text)
    assert failures == ["SweepFunction: SIMRENEW_PLATFORM_KEY must not be set in the template (a secret or local-only)"]


def test_a_changed_gsi_key_fails() -> None:
    text = TEXT.replace("AttributeName: exp_pk", "AttributeName: expiry_pk")
    assert text != TEXT
    assert tc.check_cfn_lint(text) == []  # still a valid template: only the cross-check sees it
    failures = tc.check_table(text)
    assert any("expiry" in f and "exp_pk" in f for f in failures), failures


def test_a_changed_ttl_attribute_or_missing_index_fails() -> None:
    assert tc.check_table(edited(r"^(        AttributeName: )ttl$", r"\1expires"))
    no_gsi4 = edited(
        r"^        # Terminals of a tenant by expiry date.*\n        - IndexName: gsi4\n(?:          .*\n)+", ""
    )
    no_gsi4 = re.sub(r"^        - AttributeName: gsi4(pk|sk)\n          AttributeType: S\n", "", no_gsi4, flags=re.M)
    assert any("gsi4" in f for f in tc.check_table(no_gsi4))


def test_least_privilege_rules() -> None:
    assert tc.check_permissions(TEXT) == []
    sms_from_api = edited(
        r"^(            - Sid: HandImportsToTheWorker\n)",
        '            - Effect: Allow\n              Action: sns:Publish\n              Resource: "*"\n\\1',
    )
    assert any(f.startswith("ApiFunction") and "sns:Publish" in f for f in tc.check_permissions(sms_from_api))
    webhook_reads_platform_key = edited(
        r"^(              Resource: )!Ref StripeSecret$", r"\1[!Ref StripeSecret, !Ref PlatformKeySecret]"
    )
    failures = tc.check_permissions(webhook_reads_platform_key)
    assert any(f.startswith("WebhookFunction") and "PlatformKeySecret" in f for f in failures), failures


def test_carrier_account_keys_are_read_only_where_used_and_written_only_by_the_api() -> None:
    """Issue 15: one secret per carrier account under simrenew/<Stage>/carrier/; the API creates and
    deletes them, the dispatcher, the sweep's drain and the sync function only read them, nobody else
    touches them."""
    carrier = (
        "Resource: !Sub arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}"
        ":secret:simrenew/${Stage}/carrier/*"
    )
    webhook_reads = edited(
        r"^(            - Sid: StripeKeysOnly\n)",
        "            - Effect: Allow\n              Action: secretsmanager:GetSecretValue\n              "
        + carrier
        + "\n\\1",
    )
    assert any(
        f.startswith("WebhookFunction") and "carrier account keys" in f for f in tc.check_permissions(webhook_reads)
    )
    sid = "            - Sid: ReadCarrierAccountKeys\n              Effect: Allow\n"
    reader_deletes = TEXT.replace(
        sid + "              Action: secretsmanager:GetSecretValue\n",
        sid + "              Action: secretsmanager:DeleteSecret\n",
        1,
    )
    failures = tc.check_permissions(reader_deletes)
    # The first reader in the template (the sweep) now may delete: refused.
    assert any(f.startswith("SweepFunction") and "DeleteSecret" in f for f in failures), failures
    api_unscoped = TEXT.replace(
        "                - secretsmanager:DeleteSecret\n              " + carrier,
        '                - secretsmanager:DeleteSecret\n              Resource: "*"',
    )
    assert any(f.startswith("ApiFunction") for f in tc.check_permissions(api_unscoped))


def test_the_outbox_stream_must_report_partial_failures_bisect_and_keep_what_fails() -> None:
    assert tc.check_outbox_stream(TEXT) == []
    for pattern, replacement, complaint in (
        (r"^      FunctionResponseTypes: \[ReportBatchItemFailures\]\n", "", "ReportBatchItemFailures"),
        (r"^      BisectBatchOnFunctionError: true$", "      BisectBatchOnFunctionError: false", "Bisect"),
        (r"^      MaximumRetryAttempts: 5$", "      MaximumRetryAttempts: -1", "MaximumRetryAttempts"),
        (r"^      DestinationConfig:\n        OnFailure:\n          Destination: .*\n", "", "on-failure"),
    ):
        failures = tc.check_outbox_stream(edited(pattern, replacement))
        assert any(complaint in f for f in failures), (complaint, failures)


def test_a_stream_filter_that_lets_updates_or_other_items_through_fails() -> None:
    updates_too = edited(r'\{"eventName": \["INSERT"\]', '{"eventName": ["INSERT", "MODIFY"]')
    assert any("queued again" in f for f in tc.check_outbox_stream(updates_too))
    any_kind = edited(r'"kind": \{"S": \["outbox", "terminal_event", "carrier_op"\]\},', "")
    assert any("a new order" in f for f in tc.check_outbox_stream(any_kind))
    no_stream = edited(r"^      StreamSpecification:\n        StreamViewType: NEW_IMAGE\n", "")
    assert any("stream" in f for f in tc.check_table(no_stream))


def test_the_dispatcher_may_send_receipts_but_the_webhook_function_may_not() -> None:
    sms_from_webhook = edited(
        r"^(            - Sid: StripeKeysOnly\n)",
        '            - Effect: Allow\n              Action: sns:Publish\n              Resource: "*"\n\\1',
    )
    failures = tc.check_permissions(sms_from_webhook)
    assert failures and all(f.startswith("WebhookFunction") for f in failures), failures


def test_runtime_must_equal_the_tests_python() -> None:
    assert tc.check_runtime(edited(r"^(    Runtime: )python3\.\d+$", r"\g<1>python3.99"))


def test_code_with_a_makefile_must_be_built_by_it_so_its_bytecode_ships() -> None:
    assert tc.check_runtime(TEXT) == []
    # SAM's Python builder ships no .pyc: each cold start would compile the packages again.
    sam_built = edited(r"^(  PackagesLayer:\n(?:.*\n)*?      BuildMethod: )makefile$", r"\g<1>python3.11")
    assert tc.check_runtime(sam_built) == [
        "PackagesLayer: Metadata.BuildMethod should be makefile (shared/packages/Makefile compiles the bytecode)"
    ]
    api = r"^(  ApiFunction:\n    Type: AWS::Serverless::Function\n)"
    no_metadata = tc.check_runtime(edited(api + r"    Metadata:\n(?:      .*\n)+", r"\1"))
    assert any(f.startswith("ApiFunction: Metadata.BuildMethod should be makefile") for f in no_metadata)
    renamed = edited(r"^(  )ApiFunction:$", r"\1AppFunction:")  # its Makefile still builds build-ApiFunction
    assert any("has no build-AppFunction: target" in f for f in tc.check_runtime(renamed))


def test_the_command_exits_non_zero_on_a_broken_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "template.yaml"
    broken.write_text(TEXT.replace("AttributeName: exp_pk", "AttributeName: expiry_pk"), encoding="utf-8")
    assert tc.main(["--template", str(broken)]) == 1
    assert "CHECK FAILED" in capsys.readouterr().out


def test_api_gateways_own_answers_use_the_api_error_shape() -> None:
    """Unknown routes, throttling and API Gateway's own failures reach agents in the one shape
    they parse (the local server answers the same way)."""
    import json

    responses = tc.parse(TEXT)["Resources"]["RestApi"]["Properties"]["GatewayResponses"]
    assert {"MISSING_AUTHENTICATION_TOKEN", "THROTTLED", "DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses)
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == 404
    for name, response in responses.items():
        # API Gateway fills $context.error.messageString with a quoted JSON string.
        body = response["ResponseTemplates"]["application/json"].replace(
            "$context.error.messageString", json.dumps("Missing Authentication Token")
        )
        error = json.loads(body)["error"]
        assert set(error) == {"code", "message"} and re.fullmatch(r"[a-z]+(_[a-z]+)*", error["code"]), name


def test_the_sweep_fans_out_within_its_concurrency_and_only_the_api_and_itself_invoke_it() -> None:
    assert tc.check_sweep_fanout(TEXT) == []
    too_few = edited(r"^      ReservedConcurrentExecutions: 11$", "      ReservedConcurrentExecutions: 1")
    assert any("ReservedConcurrentExecutions 1" in f for f in tc.check_sweep_fanout(too_few))
    webhook_invokes = edited(
        r"^(            - Sid: StripeKeysOnly\n)",
        "            - Effect: Allow\n              Action: lambda:InvokeFunction\n"
        "              Resource: !GetAtt SweepFunction.Arn\n\\1",
    )
    assert any(f.startswith("WebhookFunction: may invoke") for f in tc.check_sweep_fanout(webhook_invokes))
    # The API may start a run, and nothing else of the sweep's: no SES, no SNS.
    api = tc.function_statements(TEXT)["ApiFunction"]
    actions = {str(a) for s in api for a in tc._as_list(s.get("Action", []))}
    assert "lambda:InvokeFunction" in actions and not {a for a in actions if a.startswith(("ses:", "sns:"))}
