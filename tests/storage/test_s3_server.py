"""The throwaway S3 server (script/s3: Ceph's radosgw) behaves like S3, signatures included.

Skipped when script/s3 cannot start (not root and Ceph missing) unless INTAGLIO_REQUIRE_S3 is set.
"""

import os
import time
import urllib.error
import urllib.request
import uuid

import boto3
import pytest
from botocore.client import Config
from botocore.exceptions import ClientError

pytestmark = pytest.mark.s3


def _client(env, secret=None):
    return boto3.client(
        "s3",
        endpoint_url=env["S3_ENDPOINT_URL"],
        aws_access_key_id=env["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=secret or env["S3_SECRET_ACCESS_KEY"],
        region_name=env["S3_REGION"],
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="module")
def s3(s3_env):
    return _client(s3_env)


@pytest.fixture(scope="module")
def bucket(s3):
    name = f"intaglio-test-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def test_create_bucket(s3, bucket):
    assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.head_bucket(Bucket=bucket)


def test_put_get_round_trip(s3, bucket):
    body = os.urandom(200_000) + b"\x00end"
    s3.put_object(Bucket=bucket, Key="dir/plate.bin", Body=body, ContentType="application/octet-stream")
    got = s3.get_object(Bucket=bucket, Key="dir/plate.bin")
    assert got["Body"].read() == body
    assert got["ContentLength"] == len(body)
    assert got["ContentType"] == "application/octet-stream"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="dir/")["Contents"]]
    assert keys == ["dir/plate.bin"]
    s3.delete_object(Bucket=bucket, Key="dir/plate.bin")
    with pytest.raises(ClientError) as missing:
        s3.get_object(Bucket=bucket, Key="dir/plate.bin")
    assert missing.value.response["Error"]["Code"] == "NoSuchKey"


def test_presigned_get_works_then_expires(s3, bucket):
    s3.put_object(Bucket=bucket, Key="presigned.txt", Body=b"hello intaglio")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "presigned.txt"}, ExpiresIn=2)
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        assert response.read() == b"hello intaglio"
    time.sleep(3)
    with pytest.raises(urllib.error.HTTPError) as expired:
        urllib.request.urlopen(url, timeout=10)
    assert expired.value.code == 403


def test_unsigned_request_for_private_object_is_refused(s3_env, s3, bucket):
    s3.put_object(Bucket=bucket, Key="private.txt", Body=b"secret")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{s3_env['S3_ENDPOINT_URL']}/{bucket}/private.txt", timeout=10)
    assert refused.value.code == 403


def test_wrong_secret_key_is_refused(s3_env, bucket):
    wrong = _client(s3_env, secret="x" * 40)
    with pytest.raises(ClientError) as refused:
        wrong.get_object(Bucket=bucket, Key="presigned.txt")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert refused.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    with pytest.raises(ClientError) as refused_put:
        wrong.put_object(Bucket=bucket, Key="forged.txt", Body=b"forged")
    assert refused_put.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
