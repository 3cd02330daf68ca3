"""Scraping a Prometheus endpoint into samples a test can compare."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of an exposition, keyed by its name and labels."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def scrape(url: str) -> Samples:
    async with httpx.AsyncClient(timeout=10) as http:
        resp = await http.get(url)
    resp.raise_for_status()
    return parse(resp.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample `name` with exactly these labels; 0 if it is not (yet) exported."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples `name` whose labels include these (others, e.g. the SDK's
    namespace or service_name, are summed over)."""
    wanted = set(labels.items())
    return sum(v for (n, have), v in samples.items() if n == name and wanted <= have)


def names(samples: Samples) -> set[str]:
    return {name for name, _ in samples}
