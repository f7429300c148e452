"""Shipping the UI: every file of the build lands in the bucket with the right type and cache."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from infra.publish_frontend import IMMUTABLE, REVALIDATE, publish


def build(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>console</title>")
    (tmp_path / "pay.html").write_text("<!doctype html><title>pay</title>")
    (tmp_path / "assets" / "pay-abc123.js").write_text("console.log(1)")
    (tmp_path / "assets" / "pay-abc123.css").write_text("body{}")
    return tmp_path


def test_assets_are_immutable_pages_revalidate_and_pages_go_last(tmp_path: Path) -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="simrenew-ui")
        order = publish(build(tmp_path), "simrenew-ui", s3)
        page = s3.head_object(Bucket="simrenew-ui", Key="pay.html")
        script = s3.head_object(Bucket="simrenew-ui", Key="assets/pay-abc123.js")
    assert set(order[-2:]) == {"index.html", "pay.html"}
    assert page["CacheControl"] == REVALIDATE and page["ContentType"] == "text/html; charset=utf-8"
    assert script["CacheControl"] == IMMUTABLE and script["ContentType"].startswith("text/javascript")


def test_an_unbuilt_ui_is_refused_before_anything_is_uploaded(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no build"):
        publish(tmp_path, "ui", None)
