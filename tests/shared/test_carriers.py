"""Which carrier a name means (pure)."""

from __future__ import annotations

from shared.carriers import Carriers


def test_carriers_compare_by_name_or_code() -> None:
    carriers = Carriers({"Acme Freight": "acme"})
    assert carriers.verdict("SF Express", "shunfeng") == "same"
    assert carriers.verdict("顺丰速运", "sf-express") == "same"
    assert carriers.verdict("YTO", "shunfeng") == "other"
    assert carriers.verdict("Acme Freight", "acme") == "same"
    assert carriers.verdict("Local Van Co", "shunfeng") == "unknown"
    assert carriers.verdict(None, "shunfeng") == "unknown"
    assert carriers.code_of("ZTO Express") == "zhongtong" and carriers.code_of("nope") is None
    assert carriers.code_of("china-ems") == "ems" and carriers.code_of("sf-express") == "shunfeng"
