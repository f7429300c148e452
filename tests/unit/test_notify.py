"""Notification channels: SNS SMS and SES email on moto, error mapping, the local outbox, the router."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, ReadTimeoutError
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from simrenew.adapters.notify import ChannelRouter, LocalOutbox, SendError, SesEmailSender, SnsSmsSender
from simrenew.clock import FixedClock
from simrenew.domain.messages import Message

REGION = "us-east-1"
SENDER = "noreply@simrenew.example"


# --- builders -------------------------------------------------------------------------------------


def sms_message(**overrides: Any) -> Message:
    fields: dict[str, Any] = {
        "channel": "sms",
        "to": "+8613812345678",
        "subject": None,
        "body": "【示例代理】您的POS终端SN PAX-A920-0001流量卡将于2027-01-31到期，续费：https://pay.example/pay/PAX-A920-0001",
        "template": "reminder",
        "language": "zh-CN",
        "tenant_id": "t_demo",
        "sn": "PAX-A920-0001",
        "dedupe_key": "NOTE#PAX-A920-0001#2027-01-31#reminder_7#sms",
    }
    fields.update(overrides)
    return Message(**fields)


def email_message(**overrides: Any) -> Message:
    fields: dict[str, Any] = {
        "channel": "email",
        "to": "merchant@example.com",
        "subject": "POS终端 PAX-A920-0001 流量卡将于 2027-01-31 到期",
        "body": "张记便利店，您好：\n\n在线续费：https://pay.example/pay/PAX-A920-0001\n",
        "template": "reminder",
        "language": "zh-CN",
        "tenant_id": "t_demo",
        "sn": "PAX-A920-0001",
        "dedupe_key": "NOTE#PAX-A920-0001#2027-01-31#reminder_7#email",
    }
    fields.update(overrides)
    return Message(**fields)


def client_error(code: str, status: int, operation: str = "Publish") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": f"{code} happened"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        operation,
    )


class FailingClient:
    """A boto3 client stand-in whose every call raises the given error."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def publish(self, **_: Any) -> dict[str, Any]:
        raise self.error

    def send_email(self, **_: Any) -> dict[str, Any]:
        raise self.error


class RecordingNotifier:
    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: list[Message] = []

    def send(self, message: Message) -> str:
        self.sent.append(message)
        return f"{self.name}-{len(self.sent)}"


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def boto3_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts boto3.client() calls, still building the real (moto-backed) client."""
    calls: list[str] = []
    real = boto3.client

    def counting(service: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(service)
        return real(service, *args, **kwargs)

    monkeypatch.setattr(boto3, "client", counting)
    return calls


def failing_boto3(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    monkeypatch.setattr(boto3, "client", lambda *_a, **_k: FailingClient(error))


# --- SNS SMS --------------------------------------------------------------------------------------


def test_given_an_sms_when_sent_through_sns_then_moto_records_it_for_the_phone(aws: None) -> None:
    sender = SnsSmsSender(REGION)
    message = sms_message()

    message_id = sender.send(message)

    recorded = sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages
    assert recorded[message_id] == ("+8613812345678", message.body)


def test_given_an_sms_sender_when_built_then_no_client_is_made_until_the_first_send(
    aws: None, boto3_calls: list[str]
) -> None:
    sender = SnsSmsSender(REGION)
    assert boto3_calls == []

    sender.send(sms_message())
    sender.send(sms_message(to="+8613912345678"))

    assert boto3_calls == ["sns"]
    assert len(sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages) == 2


def test_given_a_number_that_is_not_e164_when_sent_then_a_final_send_error(aws: None) -> None:
    with pytest.raises(SendError) as caught:
        SnsSmsSender(REGION).send(sms_message(to="138-1234-5678"))

    assert caught.value.retryable is False
    assert caught.value.code == "InvalidParameter"


def test_given_an_email_message_when_handed_to_the_sms_sender_then_value_error() -> None:
    with pytest.raises(ValueError, match="sms"):
        SnsSmsSender(REGION).send(email_message())


# --- SES email ------------------------------------------------------------------------------------


def test_given_a_verified_sender_when_an_email_is_sent_then_moto_records_subject_body_and_recipient(aws: None) -> None:
    boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=SENDER)
    message = email_message()

    message_id = SesEmailSender(REGION, SENDER).send(message)

    sent = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
    assert len(sent) == 1
    assert sent[0].id == message_id
    assert sent[0].source == SENDER
    assert sent[0].subject == message.subject
    assert sent[0].body == message.body
    assert sent[0].destinations["ToAddresses"] == ["merchant@example.com"]


def test_given_an_email_sender_when_built_then_no_client_is_made_until_the_first_send(
    aws: None, boto3_calls: list[str]
) -> None:
    sender = SesEmailSender(REGION, SENDER)
    assert boto3_calls == []
    boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=SENDER)

    sender.send(email_message())
    sender.send(email_message())

    assert boto3_calls.count("ses") == 2  # the test's own client, then the sender's one


def test_given_an_unverified_sender_when_an_email_is_sent_then_a_final_send_error(aws: None) -> None:
    with pytest.raises(SendError) as caught:
        SesEmailSender(REGION, "unverified@simrenew.example").send(email_message())

    assert caught.value.retryable is False
    assert caught.value.code == "MessageRejected"
    assert ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages == []


def test_given_an_sms_message_when_handed_to_the_email_sender_then_value_error() -> None:
    with pytest.raises(ValueError, match="email"):
        SesEmailSender(REGION, SENDER).send(sms_message())


def test_given_an_email_without_subject_when_sent_then_value_error() -> None:
    with pytest.raises(ValueError, match="subject"):
        SesEmailSender(REGION, SENDER).send(email_message(subject=None))


# --- error mapping --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (client_error("Throttling", 400), True),
        (client_error("ThrottledException", 400), True),
        (client_error("InternalError", 500), True),
        (client_error("ServiceUnavailable", 503), True),
        (client_error("SomethingNew", 502), True),  # any 5xx: the provider's fault, try later
        (client_error("TooManyRequests", 429), True),
        (client_error("InvalidParameter", 400), False),
        (client_error("OptedOut", 400), False),
        (client_error("MessageRejected", 400), False),
        (client_error("AuthorizationError", 403), False),
        (EndpointConnectionError(endpoint_url="https://sns.us-east-1.amazonaws.com"), True),
        (ReadTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com"), True),
        (NoCredentialsError(), False),
    ],
)
@pytest.mark.parametrize("channel", ["sms", "email"])
def test_given_a_provider_failure_when_sending_then_send_error_says_whether_to_retry(
    monkeypatch: pytest.MonkeyPatch, error: Exception, retryable: bool, channel: str
) -> None:
    failing_boto3(monkeypatch, error)
    sender = SnsSmsSender(REGION) if channel == "sms" else SesEmailSender(REGION, SENDER)
    message = sms_message() if channel == "sms" else email_message()

    with pytest.raises(SendError) as caught:
        sender.send(message)

    assert caught.value.retryable is retryable
    assert caught.value.__cause__ is error


def test_given_a_bug_outside_botocore_when_sending_then_it_is_not_disguised_as_a_send_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    failing_boto3(monkeypatch, KeyError("oops"))

    with pytest.raises(KeyError):
        SnsSmsSender(REGION).send(sms_message())


# --- local outbox ---------------------------------------------------------------------------------


def test_given_no_path_when_messages_are_sent_then_they_are_kept_in_memory_with_sequential_ids() -> None:
    outbox = LocalOutbox()

    ids = [outbox.send(sms_message()), outbox.send(email_message())]

    assert ids == ["local-000001", "local-000002"]
    assert outbox.sent == [sms_message(), email_message()]


def test_given_a_path_when_messages_are_sent_then_one_json_line_each_with_a_utc_timestamp(tmp_path: Path) -> None:
    path = tmp_path / "outbox" / "messages.jsonl"  # a missing folder is made
    outbox = LocalOutbox(path, clock=FixedClock(datetime(2027, 1, 24, 2, 0, tzinfo=UTC)))

    outbox.send(sms_message())
    outbox.send(email_message())

    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == ["local-000001", "local-000002"]
    assert {line["at"] for line in lines} == {"2027-01-24T02:00:00Z"}
    assert lines[0]["channel"] == "sms" and lines[0]["to"] == "+8613812345678" and lines[0]["subject"] is None
    assert lines[1]["subject"] == email_message().subject
    assert lines[1]["body"] == email_message().body
    assert "张记便利店" in path.read_text(encoding="utf-8")  # written as UTF-8 text, readable in a terminal
    assert lines[1]["dedupe_key"].endswith("#email")


def test_given_an_outbox_file_from_a_previous_run_when_reopened_then_ids_continue(tmp_path: Path) -> None:
    path = tmp_path / "messages.jsonl"
    LocalOutbox(path).send(sms_message())

    second = LocalOutbox(path).send(sms_message())

    assert second == "local-000002"
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2


def test_given_many_threads_when_sending_at_once_then_no_id_or_line_is_lost(tmp_path: Path) -> None:
    path = tmp_path / "messages.jsonl"
    outbox = LocalOutbox(path)
    ids: list[str] = []
    ids_lock = threading.Lock()

    def work() -> None:
        for _ in range(50):
            message_id = outbox.send(sms_message())
            with ids_lock:
                ids.append(message_id)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(ids)) == 400
    assert len(outbox.sent) == 400
    lines = path.read_text(encoding="utf-8").splitlines()
    assert sorted(json.loads(line)["id"] for line in lines) == sorted(ids)


# --- router ---------------------------------------------------------------------------------------


def test_given_a_router_when_messages_of_both_channels_are_sent_then_each_reaches_its_sender() -> None:
    sms, email = RecordingNotifier("sms"), RecordingNotifier("email")
    router = ChannelRouter(sms=sms, email=email)

    first = router.send(sms_message())
    second = router.send(email_message())

    assert (first, second) == ("sms-1", "email-1")
    assert sms.sent == [sms_message()]
    assert email.sent == [email_message()]


def test_given_a_router_when_a_message_of_another_channel_is_sent_then_value_error() -> None:
    router = ChannelRouter(sms=RecordingNotifier("sms"), email=RecordingNotifier("email"))

    with pytest.raises(ValueError, match="webhook"):
        router.send(sms_message(channel="webhook"))


def test_given_a_router_over_moto_and_the_outbox_when_sending_then_sms_goes_to_sns_and_email_to_the_outbox(
    aws: None,
) -> None:
    outbox = LocalOutbox()
    router = ChannelRouter(sms=SnsSmsSender(REGION), email=outbox)

    sms_id = router.send(sms_message())
    email_id = router.send(email_message())

    assert sms_id in sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages
    assert email_id == "local-000001" and outbox.sent == [email_message()]
