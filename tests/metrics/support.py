"""Scraping `/metrics` and reading values out of it, for the metrics tests."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from ovserve.server import Server


@dataclass(frozen=True)
class Scrape:
    """One scrape: the raw text and the families parsed by prometheus_client."""

    text: str
    types: dict[str, str]
    samples: list[tuple[str, dict[str, str], float]]

    def value(self, sample: str, /, **labels: str) -> float:
        """The sample `name` whose labels include `labels`; 0 when there is none (as Prometheus)."""
        found = [v for n, ls, v in self.samples if n == sample and labels.items() <= ls.items()]
        assert len(found) <= 1, f"{sample} {labels} matches {len(found)} series"
        return found[0] if found else 0.0

    def series(self, sample: str) -> list[dict[str, str]]:
        """The label sets of every sample `name`."""
        return [ls for n, ls, _ in self.samples if n == sample]


async def scrape(session: aiohttp.ClientSession, server: Server) -> Scrape:
    async with session.get(f"http://127.0.0.1:{server.rest_port}/metrics") as response:
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    types: dict[str, str] = {}
    samples: list[tuple[str, dict[str, str], float]] = []
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        samples.extend((s.name, dict(s.labels), s.value) for s in family.samples)
    return Scrape(text=text, types=types, samples=samples)


class Delta:
    """How far each series moved between two scrapes."""

    def __init__(self, before: Scrape, after: Scrape) -> None:
        self.before, self.after = before, after

    def __call__(self, sample: str, /, **labels: str) -> float:
        return self.after.value(sample, **labels) - self.before.value(sample, **labels)
