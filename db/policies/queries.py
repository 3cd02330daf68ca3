"""SLA policy versions: all SQL about the policy table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.policies.models import SlaPolicyVersion
from policies import parse_policy
from workflows.policy import SlaPolicy

SOURCE_FILE = "file"
SOURCE_API = "api"


def as_policy(row: SlaPolicyVersion) -> SlaPolicy:
    return parse_policy(row.name, row.body, "stored", version=str(row.version))


def latest(session: Session, name: str) -> SlaPolicyVersion | None:
    return session.scalar(select(SlaPolicyVersion).where(SlaPolicyVersion.name == name)
                          .order_by(SlaPolicyVersion.version.desc()).limit(1))


def get_version(session: Session, name: str, version: int) -> SlaPolicyVersion | None:
    return session.get(SlaPolicyVersion, (name, version))


def versions(session: Session, name: str) -> list[SlaPolicyVersion]:
    return list(session.scalars(select(SlaPolicyVersion).where(SlaPolicyVersion.name == name)
                                .order_by(SlaPolicyVersion.version)))


def all_latest(session: Session) -> list[SlaPolicyVersion]:
    newest = (select(SlaPolicyVersion.name, func.max(SlaPolicyVersion.version).label("v"))
              .group_by(SlaPolicyVersion.name).subquery())
    return list(session.scalars(
        select(SlaPolicyVersion).join(newest, (SlaPolicyVersion.name == newest.c.name)
                                      & (SlaPolicyVersion.version == newest.c.v))
        .order_by(SlaPolicyVersion.name)))


def add_version(session: Session, name: str, body: dict[str, Any], source: str,
                created_by: str) -> SlaPolicyVersion:
    """Append the next version of `name`; versions are never edited."""
    for _ in range(5):
        current = latest(session, name)
        row = SlaPolicyVersion(name=name, version=(current.version + 1) if current else 1,
                               body=body, source=source, created_at=datetime.now(UTC),
                               created_by=created_by)
        try:
            with session.begin_nested():
                session.add(row)
            return row
        except IntegrityError:
            continue  # another writer took that version number: take the next
    raise RuntimeError(f"could not add a version of policy {name!r}")


def seed_from_file(session: Session, bodies: dict[str, dict[str, Any]], path: str) -> list[str]:
    """Make the file the seed of the table: a policy new to the table, or changed in the file
    since it was last seeded, gets a new version. Versions added through the API stay in force
    while the file is unchanged. Returns the names that got a version."""
    added = []
    for name, body in bodies.items():
        seeded = session.scalar(
            select(SlaPolicyVersion)
            .where(SlaPolicyVersion.name == name, SlaPolicyVersion.source == SOURCE_FILE)
            .order_by(SlaPolicyVersion.version.desc()).limit(1))
        if seeded is not None and _same(seeded.body, body, name):
            continue
        add_version(session, name, body, SOURCE_FILE, f"file:{path}")
        added.append(name)
    return added


def _same(a: dict[str, Any], b: dict[str, Any], name: str) -> bool:
    return parse_policy(name, a, "") == parse_policy(name, b, "")
