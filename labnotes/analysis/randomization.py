"""Allocating animals to treatment arms: simple, stratified on tumour volume, balanced, in batches.

Pure algorithms shared by the study-run service (issue 5) and ``python -m labnotes.analysis
randomize``. Randomness comes in as a :class:`numpy.random.Generator`; every result records the
method, the seed (the generator's ``SeedSequence`` entropy), its state before the first draw, the
numpy version and the bit generator name, because numpy does not promise identical streams across
versions. Arms are numbered 0 … k - 1 here; the command prints them as 1 … k.

Group sizes: the planned sizes when given (they must add up to the number of animals), otherwise
as equal as possible — the first ``n mod k`` arms get one animal more.

Standardized mean difference (SMD) of a covariate between arms a and b, after Austin (2009):
|m_a - m_b| / √((s_a² + s_b²) / 2), with sample SDs (n - 1). An arm of one animal has no SD; the
SD of the whole cohort stands in for it. Two arms with identical values everywhere have SMD 0.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from labnotes.analysis.errors import AnalysisInputError
from labnotes.analysis.tabular import parse_float, read_table, require_text

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Candidate allocations searched by the balance method unless told otherwise.
DEFAULT_CANDIDATES = 5_000
#: Greedy swap rounds after the candidate search (0 turns the refinement off).
DEFAULT_REFINE_ROUNDS = 20
_CHUNK = 2_000


class Method(StrEnum):
    SIMPLE = "simple"
    STRATIFIED = "stratified"
    BALANCE = "balance"


class CageConstraint(StrEnum):
    """``spread``: cage-mates are spread over the arms (at most ⌈cage size / k⌉ in one arm)."""

    NONE = "none"
    SPREAD = "spread"


@dataclass(frozen=True, eq=False)
class Cohort:
    """Animals to allocate with their covariates (``weight_g`` and ``cage`` optional)."""

    animals: tuple[str, ...]
    volume_mm3: FloatArray
    weight_g: FloatArray | None = None
    cage: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        n = len(self.animals)
        if len(set(self.animals)) != n:
            raise ValueError("every animal must appear once")
        if self.volume_mm3.shape != (n,) or not np.isfinite(self.volume_mm3).all():
            raise ValueError("volume_mm3 needs one finite value per animal")
        if self.weight_g is not None and (
            self.weight_g.shape != (n,) or not np.isfinite(self.weight_g).all()
        ):
            raise ValueError("weight_g needs one finite value per animal")
        if self.cage is not None and len(self.cage) != n:
            raise ValueError("cage needs one value per animal")

    @property
    def covariates(self) -> dict[str, FloatArray]:
        found = {"volume_mm3": self.volume_mm3}
        if self.weight_g is not None:
            found["weight_g"] = self.weight_g
        return found

    def __len__(self) -> int:
        return len(self.animals)


@dataclass(frozen=True)
class Provenance:
    """What it takes to reproduce (and audit) an allocation."""

    method: Method
    seed: int | None
    bit_generator: str
    numpy_version: str
    state_at_start: dict[str, Any] = field(repr=False)


@dataclass(frozen=True, eq=False)
class Allocation:
    """``arm[i]`` is the arm (0-based) of ``animals[i]``."""

    animals: tuple[str, ...]
    arm: IntArray
    n_arms: int
    provenance: Provenance
    criterion_largest_smd: float
    candidates_searched: int

    def sizes(self) -> list[int]:
        return [int(size) for size in np.bincount(self.arm, minlength=self.n_arms)]


@dataclass(frozen=True)
class CovariateSummary:
    mean: float | None
    sd: float | None


@dataclass(frozen=True)
class ArmBalance:
    arm: int
    n: int
    covariates: dict[str, CovariateSummary]


@dataclass(frozen=True)
class BalanceTable:
    """Per arm n and mean ± SD of each covariate; per covariate largest SMD and ANOVA p."""

    arms: tuple[ArmBalance, ...]
    largest_smd: dict[str, float | None]
    anova_p: dict[str, float | None]


# --------------------------------------------------------------------------------------------
# Sizes, provenance, criterion


def group_sizes(n_animals: int, n_arms: int, planned: Sequence[int] | None = None) -> list[int]:
    """Arm sizes: ``planned`` (checked to add up to ``n_animals``) or equal ±1, larger first."""
    if n_arms < 1:
        raise ValueError("at least one arm is needed")
    if planned is not None:
        if len(planned) != n_arms or any(size < 0 for size in planned):
            raise ValueError(f"planned sizes must be {n_arms} non-negative numbers")
        if sum(planned) != n_animals:
            raise ValueError(f"planned sizes add up to {sum(planned)}, not {n_animals} animals")
        return list(planned)
    base, extra = divmod(n_animals, n_arms)
    return [base + (1 if arm < extra else 0) for arm in range(n_arms)]


def _provenance(method: Method, rng: np.random.Generator) -> Provenance:
    seed_sequence = getattr(rng.bit_generator, "seed_seq", None)
    entropy = getattr(seed_sequence, "entropy", None)
    return Provenance(
        method=method,
        seed=int(entropy) if isinstance(entropy, (int, np.integer)) else None,
        bit_generator=type(rng.bit_generator).__name__,
        numpy_version=np.__version__,
        state_at_start=dict(rng.bit_generator.state),
    )


def _spread_labels(sizes: Sequence[int]) -> IntArray:
    """Arm labels ordered so that each arm is spread evenly along the sequence.

    Arm g occupies positions ((i + ½) / size_g, g) for i < size_g, sorted: with equal sizes each
    consecutive block of k holds every arm once; with planned sizes each arm is spread in
    proportion over the volume range.
    """
    keys = [((i + 0.5) / size, arm) for arm, size in enumerate(sizes) for i in range(size)]
    return np.array([arm for _, arm in sorted(keys)], dtype=np.int64)


def _pairwise_smd(
    sums: FloatArray, squares: FloatArray, counts: FloatArray, cohort_sd: float
) -> FloatArray:
    """Largest pairwise SMD per row from per-arm sums (rows = candidates, columns = arms)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
        variances = (squares - sums * means) / (counts - 1)
    variances = np.where(counts >= 2, np.maximum(variances, 0.0), cohort_sd**2)
    present = counts > 0
    differences = np.abs(means[:, :, None] - means[:, None, :])
    pooled = np.sqrt((variances[:, :, None] + variances[:, None, :]) / 2.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        smd = np.where(pooled > 0, differences / pooled, np.where(differences > 0, np.inf, 0.0))
    valid = present[:, :, None] & present[:, None, :]
    smd = np.where(valid, smd, 0.0)
    return np.asarray(smd.max(axis=(1, 2)), dtype=np.float64)


def largest_smd_of(arm: IntArray, values: FloatArray, n_arms: int) -> float:
    """Largest pairwise SMD of one covariate over the arms (module docstring for the formula)."""
    labels = np.asarray(arm, dtype=np.int64)[None, :]
    sums, squares, counts = _arm_sums(labels, values, n_arms)
    return float(_pairwise_smd(sums, squares, counts, _cohort_sd(values))[0])


def _cohort_sd(values: FloatArray) -> float:
    return float(values.std(ddof=1)) if len(values) >= 2 else 0.0


def _arm_sums(
    labels: IntArray, values: FloatArray, n_arms: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per candidate row and arm: Σx, Σx², n — one bincount over (row, arm) pairs."""
    rows = labels.shape[0]
    flat = (labels + n_arms * np.arange(rows)[:, None]).ravel()
    tiled = np.broadcast_to(values, labels.shape).ravel()
    size = rows * n_arms
    sums = np.bincount(flat, weights=tiled, minlength=size).reshape(rows, n_arms)
    squares = np.bincount(flat, weights=tiled**2, minlength=size).reshape(rows, n_arms)
    counts = np.bincount(flat, minlength=size).reshape(rows, n_arms)
    return (sums.astype(np.float64), squares.astype(np.float64), counts.astype(np.float64))


def _criterion(labels: IntArray, cohort: Cohort, n_arms: int) -> FloatArray:
    """Largest SMD over covariates and arm pairs, per candidate row of ``labels``."""
    worst = np.zeros(labels.shape[0])
    for values in cohort.covariates.values():
        sums, squares, counts = _arm_sums(labels, values, n_arms)
        worst = np.maximum(worst, _pairwise_smd(sums, squares, counts, _cohort_sd(values)))
    return worst


def _cage_ok(labels: IntArray, cages: tuple[str, ...], n_arms: int) -> npt.NDArray[np.bool_]:
    """Per candidate: no arm holds more than ⌈cage size / k⌉ animals of one cage."""
    names = sorted(set(cages))
    codes = np.array([names.index(c) for c in cages], dtype=np.int64)
    cage_sizes = np.bincount(codes, minlength=len(names))
    allowed = -(-cage_sizes // n_arms)
    rows = labels.shape[0]
    flat = ((np.arange(rows)[:, None] * len(names) + codes[None, :]) * n_arms + labels).ravel()
    counts = np.bincount(flat, minlength=rows * len(names) * n_arms)
    counts = counts.reshape(rows, len(names), n_arms).max(axis=2)
    return np.asarray((counts <= allowed[None, :]).all(axis=1))


# --------------------------------------------------------------------------------------------
# The three methods


def randomize_simple(
    cohort: Cohort,
    n_arms: int,
    rng: np.random.Generator,
    *,
    planned_sizes: Sequence[int] | None = None,
) -> Allocation:
    """Complete randomization with fixed arm sizes: a random permutation of the arm labels.

    Formula: labels = (size₀ zeros, size₁ ones, …) permuted by ``rng.permutation``. Source: the
    "random allocation rule" (Rosenberger & Lachin, Randomization in Clinical Trials, §3.3).
    Policy: an empty cohort gives an empty allocation; covariates are not used.
    """
    provenance = _provenance(Method.SIMPLE, rng)
    sizes = group_sizes(len(cohort), n_arms, planned_sizes)
    labels = np.repeat(np.arange(n_arms, dtype=np.int64), sizes)
    arm = rng.permutation(labels)
    return _allocation(cohort, arm, n_arms, provenance, 1)


def _stratified_labels(
    volume: FloatArray, sizes: Sequence[int], block_size: int, count: int, rng: np.random.Generator
) -> IntArray:
    """``count`` stratified allocations as rows: animals by volume, shuffled within blocks."""
    n = len(volume)
    order = np.argsort(volume, kind="stable")
    sequence = _spread_labels(sizes)
    blocks = np.arange(n) // block_size
    keys = blocks[None, :] + rng.random((count, n))
    within = np.argsort(keys, axis=1, kind="stable")
    labels = np.empty((count, n), dtype=np.int64)
    labels[:, order] = sequence[within]
    return labels


def randomize_stratified(
    cohort: Cohort,
    n_arms: int,
    rng: np.random.Generator,
    *,
    planned_sizes: Sequence[int] | None = None,
    block_size: int | None = None,
) -> Allocation:
    """Stratified on tumour volume: animals sorted by volume, cut into blocks of k, random within.

    Formula: animals ordered by ``volume_mm3`` (ties in input order) are matched to a label
    sequence in which each arm is spread evenly (with equal sizes: every block of k holds each arm
    once); the labels are permuted at random within each consecutive block of ``block_size``
    (default k). Source: permuted-block randomization within strata (Rosenberger & Lachin §7).
    Policy: the last block may be partial; with equal sizes its animals go to the arms that get
    one more. Covariates other than volume are not used.
    """
    provenance = _provenance(Method.STRATIFIED, rng)
    sizes = group_sizes(len(cohort), n_arms, planned_sizes)
    size = block_size if block_size is not None else n_arms
    if size < 1:
        raise ValueError("block size must be at least 1")
    arm = _stratified_labels(cohort.volume_mm3, sizes, size, 1, rng)[0]
    return _allocation(cohort, arm, n_arms, provenance, 1)


def _moments(
    sums: FloatArray, squares: FloatArray, counts: FloatArray, cohort_sd: float
) -> tuple[FloatArray, FloatArray]:
    """Means and variances (n - 1) from sums; an arm of fewer than two uses the cohort SD."""
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
        variances = (squares - sums * means) / (counts - 1)
    return means, np.where(counts >= 2, np.maximum(variances, 0.0), cohort_sd**2)


def _smd(
    mean_x: FloatArray, var_x: FloatArray, mean_y: FloatArray, var_y: FloatArray
) -> FloatArray:
    differences = np.abs(mean_x - mean_y)
    pooled = np.sqrt((var_x + var_y) / 2.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pooled > 0, differences / pooled, np.where(differences > 0, np.inf, 0.0))


def _swap_refine(
    labels: IntArray,
    cohort: Cohort,
    n_arms: int,
    n_fixed: int,
    cage_constraint: CageConstraint,
    max_rounds: int,
) -> tuple[IntArray, float]:
    """Greedy pairwise swaps between free animals of different arms while the criterion drops.

    Each round scores every swap at once — a swap of arms a and b changes only the SMDs of pairs
    that involve a or b, the rest is the largest SMD among the other arms — and applies the best
    one; it stops when no swap improves the largest SMD by more than 1e-12. Swaps keep the arm
    sizes. Deterministic: no random numbers are drawn here.
    """
    current = labels.copy()
    covariates = list(cohort.covariates.values())
    sds = [_cohort_sd(values) for values in covariates]
    best_value = float(_criterion(current[None, :], cohort, n_arms)[0])
    cage_ok = cage_constraint is CageConstraint.SPREAD and cohort.cage is not None
    arms = np.arange(n_arms)
    for _ in range(max_rounds):
        arm_of = current[n_fixed:]
        first, second = np.triu_indices(len(arm_of), k=1)
        differ = arm_of[first] != arm_of[second]
        first, second = first[differ] + n_fixed, second[differ] + n_fixed
        if len(first) == 0:
            break
        a, b = current[first], current[second]
        rows = np.arange(len(first))
        worst = np.zeros(len(first))
        for values, sd in zip(covariates, sds, strict=True):
            sums, squares, counts = (x[0] for x in _arm_sums(current[None, :], values, n_arms))
            means, variances = _moments(sums, squares, counts, sd)
            absent = counts == 0
            matrix = _smd(means[:, None], variances[:, None], means[None, :], variances[None, :])
            matrix[absent, :] = 0.0
            matrix[:, absent] = 0.0
            others = np.zeros((n_arms, n_arms))
            for x in range(n_arms):
                for y in range(n_arms):
                    keep = (arms != x) & (arms != y)
                    others[x, y] = matrix[np.ix_(keep, keep)].max(initial=0.0)
            shift = values[second] - values[first]
            shift_squares = values[second] ** 2 - values[first] ** 2
            mean_a, var_a = _moments(sums[a] + shift, squares[a] + shift_squares, counts[a], sd)
            mean_b, var_b = _moments(sums[b] - shift, squares[b] - shift_squares, counts[b], sd)
            for mean_x, var_x, x, y, mean_y, var_y in (
                (mean_a, var_a, a, b, mean_b, var_b),
                (mean_b, var_b, b, a, mean_a, var_a),
            ):
                other_means = np.repeat(means[None, :], len(rows), axis=0)
                other_vars = np.repeat(variances[None, :], len(rows), axis=0)
                other_means[rows, y] = mean_y
                other_vars[rows, y] = var_y
                row = _smd(mean_x[:, None], var_x[:, None], other_means, other_vars)
                row[:, absent] = 0.0
                row[rows, x] = 0.0
                worst = np.maximum(worst, row.max(axis=1))
            worst = np.maximum(worst, others[a, b])
        order = np.argsort(worst, kind="stable")
        improved = False
        for index in order[:64]:
            if worst[index] >= best_value - 1e-12:
                break
            trial = current.copy()
            i, j = first[index], second[index]
            trial[i], trial[j] = current[j], current[i]
            if cage_ok and not _cage_ok(trial[None, :], cohort.cage or (), n_arms)[0]:
                continue
            current, best_value, improved = trial, float(worst[index]), True
            break
        if not improved:
            break
    return current, best_value


def _search(
    cohort: Cohort,
    n_arms: int,
    rng: np.random.Generator,
    sizes: Sequence[int],
    candidates: int,
    cage_constraint: CageConstraint,
    fixed: IntArray | None,
    refine_rounds: int,
) -> tuple[IntArray, float]:
    """Best candidate for the free animals; ``fixed`` holds arms of earlier animals (batches)."""
    n_fixed = 0 if fixed is None else len(fixed)
    free_volume = cohort.volume_mm3[n_fixed:]
    best_labels: IntArray | None = None
    best_value = math.inf
    remaining = candidates
    while remaining > 0:
        count = min(_CHUNK, remaining)
        remaining -= count
        free = _stratified_labels(free_volume, sizes, n_arms, count, rng)
        labels = (
            free if fixed is None else np.hstack([np.broadcast_to(fixed, (count, n_fixed)), free])
        )
        values = _criterion(labels, cohort, n_arms)
        if cage_constraint is CageConstraint.SPREAD and cohort.cage is not None:
            values = np.where(_cage_ok(labels, cohort.cage, n_arms), values, np.inf)
        index = int(np.argmin(values))
        if values[index] < best_value:
            best_value = float(values[index])
            best_labels = labels[index].copy()
    if best_labels is None:
        raise ValueError(
            "no candidate allocation satisfied the cage constraint; "
            "search more candidates or relax the constraint"
        )
    if refine_rounds > 0:
        best_labels, best_value = _swap_refine(
            best_labels, cohort, n_arms, n_fixed, cage_constraint, refine_rounds
        )
    return best_labels[n_fixed:], best_value


def randomize_balanced(
    cohort: Cohort,
    n_arms: int,
    rng: np.random.Generator,
    *,
    planned_sizes: Sequence[int] | None = None,
    candidates: int = DEFAULT_CANDIDATES,
    cage_constraint: CageConstraint = CageConstraint.NONE,
    refine_rounds: int = DEFAULT_REFINE_ROUNDS,
) -> Allocation:
    """Multi-covariate balance: keep the best of many seeded candidate allocations.

    Criterion (minimised): the largest SMD over the covariates (volume, and weight when given)
    and over all pairs of arms (module docstring). Candidates are volume-stratified allocations
    (:func:`randomize_stratified` draws), so each animal's arm stays random while volume starts
    out balanced; the first candidate with the smallest criterion wins. That candidate is then
    improved by up to ``refine_rounds`` greedy pairwise swaps between arms (each the swap that
    lowers the criterion most; sizes unchanged, no further random draws). Source: "best of N
    candidate randomizations", as in covariate-constrained randomization (Moulton 2004), followed
    by a swap search.

    Policy: with ``cage_constraint=spread`` candidates that put more than ⌈cage size / k⌉
    cage-mates in one arm are discarded (a ValueError when none is left). Arms of one animal use
    the cohort SD (module docstring).
    """
    provenance = _provenance(Method.BALANCE, rng)
    sizes = group_sizes(len(cohort), n_arms, planned_sizes)
    if candidates < 1:
        raise ValueError("at least one candidate is needed")
    arm, value = _search(
        cohort, n_arms, rng, sizes, candidates, cage_constraint, None, refine_rounds
    )
    return _allocation(cohort, arm, n_arms, provenance, candidates, value)


def batch_sizes(
    existing_sizes: Sequence[int], n_new: int, planned_sizes: Sequence[int] | None = None
) -> list[int]:
    """Arm sizes for a new batch so that the running totals stay as planned (or equal ±1).

    Without a plan each new animal goes to an arm with the fewest animals so far (lowest arm
    first); with a plan, to the arm with the most planned places left. More animals than planned
    places is an error.
    """
    totals = list(existing_sizes)
    new = [0] * len(totals)
    for _ in range(n_new):
        if planned_sizes is None:
            arm = min(range(len(totals)), key=lambda a: (totals[a], a))
        else:
            left = [planned - total for planned, total in zip(planned_sizes, totals, strict=True)]
            arm = max(range(len(totals)), key=lambda a: (left[a], -a))
            if left[arm] <= 0:
                raise ValueError("the batch has more animals than planned places left")
        totals[arm] += 1
        new[arm] += 1
    return new


def randomize_batch(
    allocated: Cohort,
    allocated_arm: Sequence[int],
    new: Cohort,
    n_arms: int,
    rng: np.random.Generator,
    *,
    planned_sizes: Sequence[int] | None = None,
    candidates: int = DEFAULT_CANDIDATES,
    cage_constraint: CageConstraint = CageConstraint.NONE,
    refine_rounds: int = DEFAULT_REFINE_ROUNDS,
) -> Allocation:
    """Balance a new batch against the animals already allocated (rolling enrolment).

    The earlier animals keep their arms; the new ones are allocated by the balance method with the
    criterion computed over everyone (earlier + new), and arm sizes from :func:`batch_sizes`.
    Returns the allocation of the new animals only. Both cohorts must carry the same covariates.
    """
    provenance = _provenance(Method.BALANCE, rng)
    if (allocated.weight_g is None) != (new.weight_g is None):
        raise ValueError("earlier and new animals must carry the same covariates")
    existing = np.asarray(allocated_arm, dtype=np.int64)
    if len(existing) != len(allocated):
        raise ValueError("one arm per allocated animal is needed")
    overlap = set(allocated.animals) & set(new.animals)
    if overlap:
        raise ValueError(f"already allocated: {', '.join(sorted(overlap))}")
    combined = Cohort(
        animals=allocated.animals + new.animals,
        volume_mm3=np.concatenate([allocated.volume_mm3, new.volume_mm3]),
        weight_g=None
        if new.weight_g is None or allocated.weight_g is None
        else np.concatenate([allocated.weight_g, new.weight_g]),
        cage=None if new.cage is None or allocated.cage is None else allocated.cage + new.cage,
    )
    existing_sizes = np.bincount(existing, minlength=n_arms).astype(int).tolist()
    sizes = batch_sizes(existing_sizes, len(new), planned_sizes)
    arm, value = _search(
        combined, n_arms, rng, sizes, candidates, cage_constraint, existing, refine_rounds
    )
    return _allocation(new, arm, n_arms, provenance, candidates, value)


def _allocation(
    cohort: Cohort,
    arm: IntArray,
    n_arms: int,
    provenance: Provenance,
    candidates: int,
    criterion: float | None = None,
) -> Allocation:
    if criterion is None:
        criterion = float(_criterion(arm[None, :], cohort, n_arms)[0]) if len(cohort) else 0.0
    return Allocation(
        cohort.animals, np.asarray(arm, dtype=np.int64), n_arms, provenance, criterion, candidates
    )


# --------------------------------------------------------------------------------------------
# Whole cages


@dataclass(frozen=True, eq=False)
class CageAllocation:
    """An allocation of whole cages: every animal of a cage in the cage's arm.

    ``sizes_exact`` is False when the cage sizes did not allow the planned arm sizes: the
    allocation then has the closest sizes found and ``message`` says why in words a scientist
    can act on (move animals between cages, or change the plan).
    """

    allocation: Allocation
    cage_arm: dict[str, int]
    planned_sizes: tuple[int, ...]
    sizes_exact: bool
    plan_provably_impossible: bool
    message: str


def _reachable_sums(cage_sizes: Sequence[int]) -> set[int]:
    """Every total that some subset of the cages adds up to (subset-sum, O(cages × animals))."""
    reachable = {0}
    for size in cage_sizes:
        reachable |= {total + size for total in reachable}
    return reachable


def _greedy_cages(
    sizes_in_order: IntArray, deficit: IntArray, rng: np.random.Generator
) -> IntArray:
    """Arms for cages taken in order: a random arm among those with room for the whole cage,
    else (none has room) a random one among those with the most places left."""
    left = deficit.copy()
    arm_of = np.empty(len(sizes_in_order), dtype=np.int64)
    for position, size in enumerate(sizes_in_order):
        pool = np.flatnonzero(left >= size)
        if not len(pool):
            pool = np.flatnonzero(left == left.max())
        arm = int(pool[rng.integers(len(pool))])
        arm_of[position] = arm
        left[arm] -= size
    return arm_of


def randomize_whole_cages(
    cohort: Cohort,
    n_arms: int,
    rng: np.random.Generator,
    *,
    planned_sizes: Sequence[int] | None = None,
    candidates: int = DEFAULT_CANDIDATES,
    forced: dict[str, int] | None = None,
    allocated: Cohort | None = None,
    allocated_arm: Sequence[int] | None = None,
) -> CageAllocation:
    """Allocate cages, not animals: every animal of a cage goes to the same arm.

    Candidates: the cages in a random order (larger cages first, order within a size drawn from
    ``rng``) are placed greedily, each into a randomly chosen arm that still has room for the
    whole cage (else the arm with the most places left). Among ``candidates`` such draws the
    one whose arm sizes are closest to ``planned_sizes`` wins (sum of |size - planned|), ties
    broken by the smallest largest SMD of the animals' covariates over arms (module docstring;
    with whole cages that balances the cages' mean volumes weighted by their sizes) computed
    over ``allocated`` (earlier batches, their arms fixed) and the new animals together. Then
    pairwise cage swaps between arms that keep the sizes and lower the criterion are applied
    while any helps (deterministic). ``forced`` maps cage labels to arms that are already
    decided (cage-mates allocated in an earlier batch).

    When no draw meets the plan exactly, the closest is returned with a message; the plan is
    *provably* impossible when some planned size is not a sum of any subset of the free cages'
    sizes (a necessary condition, checked exactly). ``candidates=1`` is simple cage
    randomization (one random draw, no swap search).
    """
    if cohort.cage is None:
        raise ValueError("whole-cage randomization needs every animal's cage")
    provenance = _provenance(Method.BALANCE, rng)
    sizes = np.array(group_sizes(len(cohort), n_arms, planned_sizes), dtype=np.int64)
    if candidates < 1:
        raise ValueError("at least one candidate is needed")
    forced = dict(forced or {})
    if any(not 0 <= arm < n_arms for arm in forced.values()):
        raise ValueError("a forced cage names an arm that does not exist")
    names = sorted(set(cohort.cage))
    codes = np.array([names.index(c) for c in cohort.cage], dtype=np.int64)
    cage_sizes = np.bincount(codes, minlength=len(names)).astype(np.int64)
    fixed_cages = {names.index(c): arm for c, arm in forced.items() if c in names}
    free = np.array([c for c in range(len(names)) if c not in fixed_cages], dtype=np.int64)
    deficit = sizes.copy()
    for cage, arm in fixed_cages.items():
        deficit[arm] -= cage_sizes[cage]
    combined = cohort
    fixed_labels: IntArray | None = None
    if allocated is not None and allocated_arm is not None and len(allocated):
        fixed_labels = np.asarray(allocated_arm, dtype=np.int64)
        combined = Cohort(
            animals=allocated.animals + cohort.animals,
            volume_mm3=np.concatenate([allocated.volume_mm3, cohort.volume_mm3]),
            weight_g=None
            if cohort.weight_g is None or allocated.weight_g is None
            else np.concatenate([allocated.weight_g, cohort.weight_g]),
        )

    def labels_of(cage_arms: IntArray) -> IntArray:
        arms = cage_arms[codes]
        return arms if fixed_labels is None else np.concatenate([fixed_labels, arms])

    def score(cage_arms: IntArray) -> tuple[int, float]:
        got = np.bincount(cage_arms[codes], minlength=n_arms)
        deviation = int(np.abs(got - sizes).sum())
        return deviation, float(_criterion(labels_of(cage_arms)[None, :], combined, n_arms)[0])

    best: IntArray | None = None
    best_score = (2**62, math.inf)
    for _ in range(candidates):
        shuffled = free[rng.permutation(len(free))]
        order = shuffled[np.argsort(-cage_sizes[shuffled], kind="stable")]
        cage_arms = np.zeros(len(names), dtype=np.int64)
        for cage, arm in fixed_cages.items():
            cage_arms[cage] = arm
        if len(order):
            cage_arms[order] = _greedy_cages(cage_sizes[order], deficit, rng)
        candidate_score = score(cage_arms)
        if candidate_score < best_score:
            best, best_score = cage_arms, candidate_score
    assert best is not None
    if candidates > 1:
        best, best_score = _swap_cages(best, free, cage_sizes, score, best_score)
    allocation = _allocation(cohort, best[codes], n_arms, provenance, candidates, best_score[1])
    got = allocation.sizes()
    exact = best_score[0] == 0
    reachable = _reachable_sums(cage_sizes[free].tolist())
    impossible = any(int(d) not in reachable for d in deficit)
    if exact:
        message = ""
    else:
        listed = ", ".join(str(int(size)) for size in sorted(cage_sizes[free], reverse=True))
        planned_text = "/".join(str(int(x)) for x in sizes)
        got_text = "/".join(str(x) for x in got)
        reason = (
            "cannot be split into"
            if impossible
            else f"were not split into (none of {candidates} draws found)"
        )
        message = (
            f"Whole cages of {listed} animals {reason} arms of exactly {planned_text}; the "
            f"closest allocation has {got_text}. Move animals between cages or change the "
            "planned sizes to meet the plan."
        )
    return CageAllocation(
        allocation=allocation,
        cage_arm={names[c]: int(best[c]) for c in range(len(names))},
        planned_sizes=tuple(int(x) for x in sizes),
        sizes_exact=exact,
        plan_provably_impossible=not exact and impossible,
        message=message,
    )


def _swap_cages(
    cage_arms: IntArray,
    free: IntArray,
    cage_sizes: IntArray,
    score: Any,
    current: tuple[int, float],
    max_rounds: int = DEFAULT_REFINE_ROUNDS,
) -> tuple[IntArray, tuple[int, float]]:
    """Greedy: apply the best swap of two free cages of equal size in different arms (sizes
    unchanged) while it lowers the criterion; deterministic."""
    arms = cage_arms.copy()
    for _ in range(max_rounds):
        best_trial: IntArray | None = None
        best_value = current
        for position, first in enumerate(free):
            for second in free[position + 1 :]:
                if arms[first] == arms[second] or cage_sizes[first] != cage_sizes[second]:
                    continue
                trial = arms.copy()
                trial[first], trial[second] = arms[second], arms[first]
                value = score(trial)
                if value < best_value and best_value[1] - value[1] > 1e-12:
                    best_trial, best_value = trial, value
        if best_trial is None:
            break
        arms, current = best_trial, best_value
    return arms, current


# --------------------------------------------------------------------------------------------
# Balance table


def _anova_p(values: FloatArray, arm: IntArray, n_arms: int) -> float | None:
    """One-way ANOVA F-test p; ``None`` with fewer than two non-empty arms or no residual df."""
    from scipy import special

    groups = [values[arm == a] for a in range(n_arms) if (arm == a).any()]
    n = len(values)
    k = len(groups)
    if k < 2 or n - k < 1:
        return None
    grand = values.mean()
    between = sum(len(g) * (g.mean() - grand) ** 2 for g in groups)
    within = sum(float(((g - g.mean()) ** 2).sum()) for g in groups)
    if within == 0:
        return None
    f = (between / (k - 1)) / (within / (n - k))
    return float(special.fdtrc(k - 1, n - k, f))


def balance_table(cohort: Cohort, arm: Sequence[int] | IntArray, n_arms: int) -> BalanceTable:
    """Per arm: n and mean ± SD (n - 1) of each covariate; per covariate: the largest pairwise SMD
    (module docstring) and the one-way ANOVA p across arms (F test, as R ``oneway.test(...,
    var.equal = TRUE)``).

    Policy: an empty arm has n 0 and ``None`` mean/SD and leaves SMD and ANOVA; an arm of one
    animal has a mean and no SD.
    """
    arms = np.asarray(arm, dtype=np.int64)
    rows: list[ArmBalance] = []
    for a in range(n_arms):
        members = arms == a
        summaries: dict[str, CovariateSummary] = {}
        for name, values in cohort.covariates.items():
            chosen = values[members]
            summaries[name] = CovariateSummary(
                mean=float(chosen.mean()) if len(chosen) else None,
                sd=float(chosen.std(ddof=1)) if len(chosen) >= 2 else None,
            )
        rows.append(ArmBalance(a, int(members.sum()), summaries))
    smd: dict[str, float | None] = {}
    anova: dict[str, float | None] = {}
    for name, values in cohort.covariates.items():
        present = len(set(arms.tolist())) >= 2
        value = largest_smd_of(arms, values, n_arms) if present else None
        smd[name] = value if value is None or math.isfinite(value) else None
        anova[name] = _anova_p(values, arms, n_arms)
    return BalanceTable(tuple(rows), smd, anova)


# --------------------------------------------------------------------------------------------
# Input file and command


def read_cohort_csv(path: str | Path) -> Cohort:
    """Read ``animal,volume_mm3[,weight_g][,cage]``; errors name the line and column.

    Volumes and weights must be numbers ≥ 0 (a blank cell is refused: a randomization needs every
    covariate); an animal listed twice is refused.
    """
    table = read_table(path, required=("animal", "volume_mm3"))
    if not table.rows:
        raise AnalysisInputError("the file has a header but no animals", row=1)
    animals: list[str] = []
    volumes: list[float] = []
    weights: list[float] = []
    cages: list[str] = []
    first_line: dict[str, int] = {}
    for index, line in enumerate(table.line_numbers):
        animal = require_text(table, index, "animal")
        if animal in first_line:
            raise AnalysisInputError(
                f"animal '{animal}' is listed twice (first on row {first_line[animal]})",
                row=line,
                column="animal",
            )
        first_line[animal] = line
        animals.append(animal)
        for column, target in (("volume_mm3", volumes), ("weight_g", weights)):
            if column == "weight_g" and not table.has("weight_g"):
                continue
            value = parse_float(table, index, column)
            if value < 0:
                raise AnalysisInputError(f"{value:g} is negative", row=line, column=column)
            target.append(value)
        if table.has("cage"):
            cages.append(require_text(table, index, "cage"))
    return Cohort(
        animals=tuple(animals),
        volume_mm3=np.array(volumes, dtype=np.float64),
        weight_g=np.array(weights, dtype=np.float64) if table.has("weight_g") else None,
        cage=tuple(cages) if table.has("cage") else None,
    )


def _number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def to_json(allocation: Allocation, table: BalanceTable) -> dict[str, object]:
    provenance = allocation.provenance
    return {
        "analysis": "randomize",
        "method": provenance.method.value,
        "seed": provenance.seed,
        "numpy_version": provenance.numpy_version,
        "bit_generator": provenance.bit_generator,
        "groups": allocation.n_arms,
        "sizes": allocation.sizes(),
        "candidates_searched": allocation.candidates_searched,
        "allocation": [
            {"animal": animal, "group": int(arm) + 1}
            for animal, arm in zip(allocation.animals, allocation.arm, strict=True)
        ],
        "balance": {
            "arms": [
                {
                    "group": row.arm + 1,
                    "n": row.n,
                    **{f"{name}_mean": _number(s.mean) for name, s in row.covariates.items()},
                    **{f"{name}_sd": _number(s.sd) for name, s in row.covariates.items()},
                }
                for row in table.arms
            ],
            "largest_smd": {name: _number(v) for name, v in table.largest_smd.items()},
            "anova_p": {name: _number(v) for name, v in table.anova_p.items()},
        },
    }


def _planned(text: str | None, n_arms: int, n_animals: int) -> list[int] | None:
    if text is None:
        return None
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise AnalysisInputError(
            f"--sizes '{text}' is not a comma-separated list of whole numbers"
        ) from None
    if len(sizes) != n_arms or sum(sizes) != n_animals or min(sizes) < 0:
        raise AnalysisInputError(
            f"--sizes {text} must be {n_arms} numbers adding up to the "
            f"{n_animals} animals in the file"
        )
    return sizes


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--groups", type=int, required=True, metavar="K", help="number of arms")
    parser.add_argument(
        "--seed",
        type=int,
        required=True,
        metavar="S",
        help="seed of numpy's default generator (PCG64)",
    )
    parser.add_argument("--method", choices=[m.value for m in Method], default="balance")
    parser.add_argument(
        "--sizes", default=None, metavar="N1,N2,…", help="planned arm sizes (default: equal ±1)"
    )
    parser.add_argument(
        "--candidates",
        type=int,
        default=DEFAULT_CANDIDATES,
        help="candidate allocations searched by the balance method",
    )
    parser.add_argument(
        "--block-size",
        type=int,
        default=None,
        help="block size of the stratified method (default: K)",
    )
    parser.add_argument(
        "--cage-constraint",
        choices=[c.value for c in CageConstraint],
        default="none",
        help="spread cage-mates over the arms (needs 'cage')",
    )


def run(args: argparse.Namespace) -> dict[str, object]:
    cohort = read_cohort_csv(args.input)
    if args.groups < 1 or args.groups > len(cohort):
        raise AnalysisInputError(
            f"--groups {args.groups} must lie between 1 and the {len(cohort)} animals in the file"
        )
    if args.seed < 0:
        raise AnalysisInputError(f"--seed {args.seed} must not be negative")
    if args.cage_constraint != "none" and cohort.cage is None:
        raise AnalysisInputError("--cage-constraint needs a 'cage' column", row=1)
    planned = _planned(args.sizes, args.groups, len(cohort))
    rng = np.random.default_rng(args.seed)
    method = Method(args.method)
    try:
        if method is Method.SIMPLE:
            allocation = randomize_simple(cohort, args.groups, rng, planned_sizes=planned)
        elif method is Method.STRATIFIED:
            allocation = randomize_stratified(
                cohort, args.groups, rng, planned_sizes=planned, block_size=args.block_size
            )
        else:
            allocation = randomize_balanced(
                cohort,
                args.groups,
                rng,
                planned_sizes=planned,
                candidates=args.candidates,
                cage_constraint=CageConstraint(args.cage_constraint),
            )
    except ValueError as exc:
        raise AnalysisInputError(str(exc)) from None
    return to_json(allocation, balance_table(cohort, allocation.arm, args.groups))
