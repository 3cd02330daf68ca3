"""An import outcome in words, in English or zh-CN: the report's and the import page's text.

English keeps the API's own message; zh-CN words it from the code and its details (the column,
the row, the rule), falling back to the English message for a code not listed here.
"""

from __future__ import annotations

from typing import Any

from api.imports.columns import BY_KEY

OUTCOMES = {
    "en": {"created": "created", "duplicate": "duplicate (already created with this body)",
           "refused": "refused"},
    "zh-CN": {"created": "已创建", "duplicate": "重复（已按相同内容创建）", "refused": "被拒绝"},
}

# pydantic error type -> what is wrong, in zh-CN ({limit} where the rule has one)
_RULES_ZH = {
    "missing": "必填", "string_too_short": "必填", "string_too_long": "超过 {limit} 个字符",
    "string_pattern_mismatch": "格式不对", "greater_than_equal": "不能小于 {limit}",
    "greater_than": "必须大于 {limit}", "less_than_equal": "不能大于 {limit}",
    "int_parsing": "应为整数", "int_from_float": "应为整数", "float_parsing": "应为数字",
    "enum": "取值不在可选范围内", "literal_error": "取值不在可选范围内",
    "too_short": "至少需要一行商品", "too_long": "商品行过多",
    "datetime_from_date_parsing": "应为日期时间，如 2026-12-01 10:00",
    "datetime_parsing": "应为日期时间，如 2026-12-01 10:00",
    "timezone_aware": "应为日期时间，如 2026-12-01 10:00",
    "duplicate_sku": "同一订单中商品编码重复",
}

_CODES_ZH = {
    "order_exists": "订单号已存在，且内容与本行不同",
    "unknown_policy": "没有这个名称的 SLA 策略",
    "key_scope_customer": "此密钥不能为该客户下单",
    "payload_too_large": "订单内容过大",
}


def outcome_word(outcome: str, lang: str) -> str:
    return OUTCOMES[_lang(lang)].get(outcome, outcome)


def message(code: str | None, english: str | None, details: dict[str, Any] | None,
            lang: str) -> str:
    if code is None:
        return ""
    if _lang(lang) == "en":
        return english or code
    details = details or {}
    column = BY_KEY.get(str(details.get("column")))
    where = f"第 {details['row']} 行" if details.get("row") else ""
    if column is not None:
        where = f"{column.zh}（{where}）" if where else column.zh
    if code == "validation_error":
        if details.get("type") == "value_error" and details.get("column") == \
                "promised_delivery_by":
            return f"{where}：承诺送达时间不能早于承诺发货时间"
        rule = _RULES_ZH.get(str(details.get("type")), "不符合规则")
        return f"{where}：{rule.format(limit=details.get('limit', ''))}"
    if code == "rows_disagree":
        return f"{where}与同一订单第 {details.get('first')} 行不一致"
    if code in _CODES_ZH:
        return f"{where}：{_CODES_ZH[code]}" if where else _CODES_ZH[code]
    return english or code


def _lang(lang: str) -> str:
    return "zh-CN" if lang == "zh-CN" else "en"
