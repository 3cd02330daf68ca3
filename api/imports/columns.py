"""The import file's columns: one table of every column's English and zh-CN header and where its
value goes in the API's order body (OrderCreate). Both header languages are accepted on upload,
matched here and nowhere else.

Layout (documented in README "Bulk import"): one row per order *line*. A row carries its order's
fields and one line (`sku`, `qty`); an order with several lines takes several rows with the same
`order_id`, its order fields repeated (they must agree; blank repeats take the first row's).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str  # stable name, also the English header
    zh: str  # the zh-CN header
    path: tuple[str, ...]  # where the value goes in the order body
    required: bool = False  # the header must be present (the value may still be refused)
    line: bool = False  # belongs to the row's order line, not to the order
    time: bool = False  # a date-time: a value without a zone is read in the business zone
    example: str = ""


COLUMNS: tuple[Column, ...] = (
    Column("order_id", "订单号", ("order_id",), required=True, example="SO-1001"),
    Column("customer_id", "客户编号", ("customer", "id"), required=True, example="C-88"),
    Column("customer_name", "客户名称", ("customer", "name"), required=True,
           example="Sanghong Apparel"),
    Column("customer_tier", "客户等级", ("customer", "tier"), example="key_account"),
    Column("customer_phone", "客户电话", ("customer", "phone"), example="+86 21 5555 0100"),
    Column("customer_email", "客户邮箱", ("customer", "email"), example="ops@example.com"),
    Column("customer_language", "客户语言", ("customer", "language"), example="zh-CN"),
    Column("key_account_manager", "大客户经理", ("customer", "key_account_manager")),
    Column("sku", "商品编码", ("sku",), required=True, line=True, example="SKU-1"),
    Column("qty", "数量", ("qty",), required=True, line=True, example="10"),
    Column("address", "收货地址", ("destination", "address"), required=True,
           example="88 Century Ave"),
    Column("city", "城市", ("destination", "city"), example="Shanghai"),
    Column("contact", "收货人", ("destination", "contact"), example="Li Lei"),
    Column("contact_phone", "收货人电话", ("destination", "phone"), example="138 0000 0000"),
    Column("postcode", "邮编", ("destination", "postcode"), example="200120"),
    Column("promised_ship_by", "承诺发货时间", ("promised_ship_by",), required=True, time=True,
           example="2026-12-01 10:00"),
    Column("promised_delivery_by", "承诺送达时间", ("promised_delivery_by",), required=True,
           time=True, example="2026-12-03 18:00"),
    Column("sla_policy", "SLA策略", ("sla_policy",), example="standard"),
    Column("declared_value_minor", "申报价值(分)", ("declared_value_minor",)),
    Column("weight_kg", "重量(kg)", ("weight_kg",)),
)

BY_KEY = {c.key: c for c in COLUMNS}
ORDER_COLUMNS = tuple(c for c in COLUMNS if not c.line)
LINE_COLUMNS = tuple(c for c in COLUMNS if c.line)

# Tier words a Chinese sheet may carry instead of the API's codes.
TIER_WORDS = {"标准": "standard", "普通": "standard", "大客户": "key_account",
              "重点客户": "key_account"}


def _normal(header: str) -> str:
    """Headers compare without case, surrounding blanks or full-width brackets."""
    return (header.strip().lower().replace("（", "(").replace("）", ")")
            .replace(" ", "").replace("_", ""))


_HEADERS = {_normal(h): c.key for c in COLUMNS for h in (c.key, c.zh)}


def header_key(header: str) -> str | None:
    """The column key an English or zh-CN header names; None for an unknown header."""
    return _HEADERS.get(_normal(header))


def headers(lang: str) -> list[str]:
    """The template's header row in `lang` ("zh-CN" or "en")."""
    return [c.zh if lang == "zh-CN" else c.key for c in COLUMNS]


def column_of(path: tuple[str | int, ...]) -> str | None:
    """The column key a pydantic error location (in the order body) points at, if one does:
    ("customer", "name") -> customer_name, ("lines", 1, "qty") -> qty."""
    if path and path[0] == "lines":
        field = path[2] if len(path) > 2 else None
        return field if isinstance(field, str) and field in BY_KEY else "sku"
    for column in ORDER_COLUMNS:
        if column.path == tuple(path[:len(column.path)]):
            return column.key
    return None
