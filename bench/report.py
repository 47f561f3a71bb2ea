"""The benchmark table, printed and written as Markdown."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Row:
    name: str
    value: str
    target: str = ""
    verdict: str = ""
    note: str = ""


def render(rows: list[Row], facts: dict[str, str]) -> str:
    width = max(len(r.name) for r in rows)
    lines = [f"{k}: {v}" for k, v in facts.items()] + [""]
    lines.append(f"{'benchmark':<{width}}  {'result':>22}  {'target':>18}  verdict")
    for r in rows:
        lines.append(f"{r.name:<{width}}  {r.value:>22}  {r.target:>18}  {r.verdict}")
    return "\n".join(lines)


def write_markdown(path: Path, rows: list[Row], facts: dict[str, str]) -> None:
    out = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench`); numbers from the last run on this machine.",
        "",
        "| machine | |",
        "|---|---|",
    ]
    out += [f"| {k} | {v} |" for k, v in facts.items()]
    out += ["", "| benchmark | result | target | verdict | how |", "|---|---|---|---|---|"]
    out += [f"| {r.name} | {r.value} | {r.target} | {r.verdict} | {r.note} |" for r in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n")


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"
