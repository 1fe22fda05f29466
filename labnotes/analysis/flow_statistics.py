"""Derived flow cytometry statistics: % of parent, % of an ancestor gate, ratios of populations.

Populations are gating paths from the root with steps separated by ``/``
(``Live/CD45+/CD3+/CD8+``); the parent of a path is the path without its last step. For one
sample, the inputs are the event counts of populations and, where a table gave them, FlowJo's
"Freq. of Parent" (in %). The formulas are the ones FlowJo itself uses:

* % of parent = 100 · count(population) / count(parent);
* % of ancestor A = 100 · count(population) / count(A), the same as the product of the
  fractions of parent along the path from A down (counts cancel step by step);
* ratio P/Q = count(P) / count(Q) — e.g. the CD8/Treg ratio — which equals the ratio of their
  frequencies of any common ancestor.

A fraction is taken from counts where both counts are known, else from the product of
frequencies of parent along the path. A denominator of 0 or a missing value gives ``None``
(never 0 and never infinity): the sample had no events in that gate, and the statistic is
undefined rather than zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

DerivedKind = Literal["percent_of_parent", "percent_of", "ratio"]
DERIVED_KINDS: tuple[DerivedKind, ...] = ("percent_of_parent", "percent_of", "ratio")


@dataclass(frozen=True)
class DerivedStatistic:
    """One statistic computed per sample: ``population`` over ``denominator``.

    ``percent_of_parent`` needs no denominator (the parent path is used); ``percent_of`` names
    an ancestor path of ``population``; ``ratio`` any other population.
    """

    key: str
    label: str
    kind: DerivedKind
    population: str
    denominator: str = ""

    @property
    def unit(self) -> str:
        return "ratio" if self.kind == "ratio" else "%"

    def as_dict(self) -> dict[str, str]:
        return {
            "key": self.key,
            "label": self.label,
            "kind": self.kind,
            "population": self.population,
            "denominator": self.denominator,
        }


def parent_of(path: str) -> str:
    """``Live/CD45+/CD3+`` → ``Live/CD45+``; a single step's parent is the root ``""``."""
    return path.rpartition("/")[0]


def last_step(path: str) -> str:
    return path.rpartition("/")[2]


def is_ancestor(ancestor: str, path: str) -> bool:
    return ancestor == "" or path.startswith(ancestor + "/")


def default_derived_statistics(populations: Sequence[str]) -> tuple[DerivedStatistic, ...]:
    """The statistics a panel reports unless its creator says otherwise.

    Every population as % of parent; every population below a ``CD45+`` gate as % of CD45+
    (leukocytes: the usual denominator for tumour infiltrates); and the CD8/Treg ratio where the
    panel has a population ending in ``CD8+`` and one ending in a ``Foxp3+`` step.
    """
    derived: list[DerivedStatistic] = []
    for path in populations:
        parent = parent_of(path)
        derived.append(
            DerivedStatistic(
                key=f"{path}|percent_of_parent",
                label=f"{last_step(path)} % of parent ({last_step(parent) or 'all events'})",
                kind="percent_of_parent",
                population=path,
            )
        )
    leukocytes = next((p for p in populations if last_step(p).upper() == "CD45+"), None)
    if leukocytes is not None:
        for path in populations:
            if is_ancestor(leukocytes, path):
                derived.append(
                    DerivedStatistic(
                        key=f"{path}|percent_of|{leukocytes}",
                        label=f"{last_step(path)} % of CD45+",
                        kind="percent_of",
                        population=path,
                        denominator=leukocytes,
                    )
                )
    cd8 = next((p for p in populations if last_step(p).upper() == "CD8+"), None)
    treg = next((p for p in populations if "FOXP3+" in last_step(p).upper()), None)
    if cd8 is not None and treg is not None:
        derived.append(
            DerivedStatistic(
                key=f"{cd8}|ratio|{treg}",
                label="CD8/Treg ratio",
                kind="ratio",
                population=cd8,
                denominator=treg,
            )
        )
    return tuple(derived)


def check_derived_statistic(item: DerivedStatistic, populations: Sequence[str]) -> str | None:
    """Why a definition does not fit the panel's populations, or ``None`` when it does."""
    known = set(populations)
    if item.kind not in DERIVED_KINDS:
        return f"'{item.kind}' is not one of {', '.join(DERIVED_KINDS)}"
    if item.population not in known:
        return f"'{item.population}' is not a population of the panel"
    if item.kind == "percent_of_parent":
        return None
    if item.denominator not in known:
        return f"'{item.denominator}' is not a population of the panel"
    if item.kind == "percent_of" and not is_ancestor(item.denominator, item.population):
        return f"'{item.denominator}' is not a gate above '{item.population}'"
    if item.kind == "ratio" and item.denominator == item.population:
        return "a population's ratio to itself is always 1"
    return None


def _fraction(
    population: str,
    ancestor: str,
    counts: Mapping[str, float],
    frequency_of_parent: Mapping[str, float],
) -> float | None:
    """count(population) / count(ancestor), from counts or else from frequencies of parent."""
    numerator, denominator = counts.get(population), counts.get(ancestor)
    if numerator is not None and denominator is not None:
        return numerator / denominator if denominator > 0 else None
    fraction = 1.0
    path = population
    while path != ancestor:
        if path == "":
            return None
        parent = parent_of(path)
        count, parent_count = counts.get(path), counts.get(parent)
        if count is not None and parent_count is not None:
            if parent_count <= 0:
                return None
            fraction *= count / parent_count
        elif path in frequency_of_parent:
            fraction *= frequency_of_parent[path] / 100.0
        else:
            return None
        path = parent
    return fraction


def compute_derived(
    definitions: Sequence[DerivedStatistic],
    counts: Mapping[str, float],
    frequency_of_parent: Mapping[str, float],
) -> dict[str, float | None]:
    """Each definition's value for one sample (``None`` where undefined, see module docstring).

    ``counts`` maps population paths (``""`` the whole sample) to event counts;
    ``frequency_of_parent`` maps paths to FlowJo's "Freq. of Parent" in %.
    """
    values: dict[str, float | None] = {}
    for item in definitions:
        if item.kind == "percent_of_parent":
            fraction = _fraction(
                item.population, parent_of(item.population), counts, frequency_of_parent
            )
            values[item.key] = None if fraction is None else 100.0 * fraction
        elif item.kind == "percent_of":
            fraction = _fraction(item.population, item.denominator, counts, frequency_of_parent)
            values[item.key] = None if fraction is None else 100.0 * fraction
        else:
            common = _common_ancestor(item.population, item.denominator)
            top = _fraction(item.population, common, counts, frequency_of_parent)
            bottom = _fraction(item.denominator, common, counts, frequency_of_parent)
            values[item.key] = (
                None if top is None or bottom is None or bottom <= 0 else top / bottom
            )
    return values


def _common_ancestor(first: str, second: str) -> str:
    shared: list[str] = []
    for a, b in zip(first.split("/"), second.split("/"), strict=False):
        if a != b:
            break
        shared.append(a)
    common = "/".join(shared)
    # A population that is itself the other's ancestor: use its parent so both fractions exist.
    if common in (first, second):
        common = parent_of(common)
    return common
