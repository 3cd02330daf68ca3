"""The Aliyun SMS adapter: its RPC signature against Aliyun's documented example, and its
requests against a local server that implements SendSms and checks them as documented
(tests/support/aliyun_sms_server.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from activities.notify.aliyun_sms import AliyunSms, percent_encode, phone_number, signature
from activities.notify.sms_provider import SmsMessage, SmsNotSent
from tests.support.aliyun_sms_server import aliyun_sms_server, documented_signature
from tests.support.pg import free_port

# Aliyun's worked example of the signature (SMS API documentation, "签名机制"): these
# parameters with AccessKeySecret "testSecret" sign to this value.
DOCUMENTED = {
    "AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123",
    "PhoneNumbers": "15300000001", "RegionId": "cn-hangzhou", "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0", "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}', "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}
DOCUMENTED_SIGNATURE = "zJDF+Lrzhj/ThnlvIToysFRq6t4="

MESSAGE = SmsMessage(phone="+86 138-0013-8000", template_code="SMS_100",
                     params={"tracking_url": "https://wb.cn/t/x.y", "opt_out_url": "订"},
                     out_id="row-1")


def test_signature_matches_the_documented_example() -> None:
    assert signature(DOCUMENTED, "testSecret") == DOCUMENTED_SIGNATURE
    # The test server's own implementation agrees, so it can judge the adapter's requests.
    assert documented_signature({**DOCUMENTED, "Signature": "x"}, "testSecret") == \
        DOCUMENTED_SIGNATURE


def test_percent_encoding_is_rfc_3986() -> None:
    assert percent_encode("a b*c~d/e+f") == "a%20b%2Ac~d%2Fe%2Bf"
    assert percent_encode("订") == "%E8%AE%A2"


@pytest.mark.parametrize(("given", "sent"), [
    ("+86 138-0013-8000", "13800138000"), ("008613800138000", "13800138000"),
    ("13800138000", "13800138000"), ("+852 6123 4567", "85261234567")])
def test_phone_numbers_as_dysmsapi_takes_them(given: str, sent: str) -> None:
    assert phone_number(given) == sent


def test_the_signed_request_carries_the_out_id_and_fresh_nonces() -> None:
    sms = AliyunSms("http://x", "id", "secret", "Waybill")
    at = datetime(2026, 12, 5, 1, 2, 3, tzinfo=UTC)
    first, second = sms.signed_params(MESSAGE, now=at), sms.signed_params(MESSAGE, now=at)
    assert first["OutId"] == "row-1" and first["Timestamp"] == "2026-12-05T01:02:03Z"
    assert first["PhoneNumbers"] == "13800138000" and first["SignName"] == "Waybill"
    assert first["SignatureNonce"] != second["SignatureNonce"]
    assert first["Signature"] == signature(first, "secret")


def test_sends_and_reads_each_answer_like_the_provider() -> None:
    with aliyun_sms_server(script=["ok", "throttled", "invalid", "error"]) as server:
        sms = AliyunSms(server.url, server.key_id, server.secret, "Waybill")
        sent = sms.send(MESSAGE)
        assert sent.provider_id and sent.http_status == 200
        with pytest.raises(SmsNotSent) as throttled:
            sms.send(MESSAGE)
        assert not throttled.value.permanent
        assert "isv.BUSINESS_LIMIT_CONTROL" in str(throttled.value)
        with pytest.raises(SmsNotSent) as invalid:
            sms.send(MESSAGE)
        assert invalid.value.permanent
        with pytest.raises(SmsNotSent) as error:
            sms.send(MESSAGE)
        assert not error.value.permanent and error.value.http_status == 500
    assert server.refused == []
    assert [r.out_id for r in server.requests] == ["row-1"] * 4
    assert server.requests[0].params == MESSAGE.params
    assert server.requests[0].phone == "13800138000"


def test_a_wrong_secret_is_refused_for_good_and_never_shown() -> None:
    with aliyun_sms_server() as server:
        sms = AliyunSms(server.url, server.key_id, "not-the-secret", "Waybill")
        with pytest.raises(SmsNotSent) as refused:
            sms.send(MESSAGE)
    assert refused.value.permanent and "SignatureDoesNotMatch" in str(refused.value)
    assert "not-the-secret" not in str(refused.value)
    assert server.refused == ["SignatureDoesNotMatch"] and server.requests == []


def test_an_unreachable_provider_is_tried_again() -> None:
    sms = AliyunSms(f"http://127.0.0.1:{free_port()}", "id", "secret", "Waybill",
                    timeout_seconds=2)
    with pytest.raises(SmsNotSent) as down:
        sms.send(MESSAGE)
    assert not down.value.permanent
