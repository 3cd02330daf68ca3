"""The demo's made-up customers, goods, places and carriers, and the order bodies built of them."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    tier: str  # standard | key_account
    city: str
    address: str
    contact: str
    language: str = "zh-CN"
    key_account_manager: str | None = None
    skus: tuple[str, ...] = ()

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "name": self.name, "tier": self.tier,
                               "phone": "+86 21 5555 0100",
                               "email": f"orders@{self.id.lower()}.example.com",
                               "language": self.language}
        if self.key_account_manager:
            out["key_account_manager"] = self.key_account_manager
        return out


CUSTOMERS = (
    Customer("DEMO-C-SH01", "Sanghong Apparel", "key_account", "Shanghai", "88 Century Ave",
             "Li Lei", key_account_manager="Zhang Wei",
             skus=("APP-TSHIRT-M", "APP-JACKET-L", "APP-SOCKS-6")),
    Customer("DEMO-C-HZ02", "Lianhua Foods", "standard", "Hangzhou", "12 Wensan Rd",
             "Chen Jing", skus=("FOOD-TEA-250G", "FOOD-RICE-5KG", "FOOD-OIL-1L")),
    Customer("DEMO-C-SZ03", "Brightway Electronics", "key_account", "Shenzhen",
             "3 Keji South Rd", "Wang Fang", language="en", key_account_manager="Liu Yang",
             skus=("EL-CHARGER-65W", "EL-CABLE-USBC", "EL-POWERBANK")),
    Customer("DEMO-C-NJ04", "Greenleaf Pharmacy", "standard", "Nanjing", "201 Zhongshan Rd",
             "Zhao Min", skus=("PH-MASK-50", "PH-GLOVES-100", "PH-SANITIZER")),
    Customer("DEMO-C-CD05", "Panda Outdoor", "standard", "Chengdu", "7 Chunxi Rd", "Sun Hao",
             language="en", skus=("OUT-TENT-2P", "OUT-STOVE", "OUT-LANTERN")),
)

CARRIERS = (("SF Express", "SF"), ("ZTO Express", "ZTO"), ("JD Logistics", "JD"),
            ("Deppon Logistics", "DPK"))
HUBS = ("Shanghai Qingpu hub", "Hangzhou Xiaoshan hub", "Nanjing Jiangning hub",
        "Wuhan Dongxihu hub", "Chengdu Shuangliu hub", "Shenzhen Bao'an hub")
SIGNERS = ("Li Lei", "Chen Jing", "Wang Fang", "Zhao Min", "Sun Hao", "front desk")


def order_body(order_id: str, customer: Customer, rng: random.Random, now: datetime,
               ship_in: float, deliver_in: float, policy: str) -> dict[str, Any]:
    """A new order: one to three of the customer's SKUs; promises `ship_in`/`deliver_in`
    seconds from `now`."""
    skus = rng.sample(customer.skus, rng.randint(1, min(3, len(customer.skus))))
    return {
        "order_id": order_id,
        "customer": customer.body(),
        "lines": [{"sku": sku, "qty": rng.choice((2, 4, 5, 10, 12, 20, 24))} for sku in skus],
        "destination": {"address": customer.address, "city": customer.city,
                        "contact": customer.contact},
        "promised_ship_by": (now + timedelta(seconds=ship_in)).isoformat(),
        "promised_delivery_by": (now + timedelta(seconds=deliver_in)).isoformat(),
        "sla_policy": policy,
    }
