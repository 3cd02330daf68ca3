"""A policy body (a file's or an admin's PUT) validated into the `SlaPolicy` an order carries."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from policies.errors import explain
from policies.schema import PolicyBody
from workflows.policy import SlaPolicy


def parse_policy(name: str, body: Any, where: str, version: str = "") -> SlaPolicy:
    """Validate one policy body against `policies.schema.PolicyBody`.

    Args:
        name: the policy's name, named in every error.
        body: the mapping an admin wrote.
        where: what every error starts with (the file's path, "request body", ...).
        version: the version the returned policy carries.

    Raises:
        PolicyError: the body is not a valid policy; the message names the key.
    """
    try:
        parsed = PolicyBody.model_validate(body)
    except ValidationError as exc:
        raise explain(exc, f"{where}: policy {name!r}") from None
    return parsed.to_policy(name, version)
