"""Observables and fidelities from classical shadows (median of means with intervals) and the
bootstrap of counts (issue 29)."""

import itertools
import warnings

import numpy as np
import pytest
import torch

from tensorrec import quantum as q
from tensorrec.quantum import mpo
from tensorrec.quantum.observables import auto_groups, min_groups
from tensorrec.quantum.povms import ProductFamily
from tensorrec.quantum.resampling import resample
from tensorrec.sweep import Runner
from tensorrec.testing.counts import too_many

ROUNDING = 1e-12


def exact(state, label: str) -> float:
    """tr(P rho) of a dense state vector."""
    return float((state.conj() @ q.pauli(label) @ state).real)


def single_rows(outcomes):
    """Each distinct outcome as Outcomes of one copy (its single-copy shadow)."""
    for i in range(len(outcomes)):
        rows = {
            k: getattr(outcomes, k)[i : i + 1]
            for k in ("index", "vectors")
            if getattr(outcomes, k) is not None
        }
        yield q.Outcomes(outcomes.povm, torch.ones(1, dtype=torch.float64), 1, **rows)


ALL3 = ["".join(p) for p in itertools.product("IXYZ", repeat=3)]


@pytest.mark.parametrize(
    "family, sample",
    [
        (q.LocalPauli(3), {}),
        (q.LocalSIC(3), {}),
        (q.Stabilizer(3), {"method": "clifford"}),
        (q.HaarUniform(3), {}),
    ],
    ids=["pauli", "sic", "stabilizer", "haar"],
)
def test_the_value_of_each_copy_is_the_trace_against_its_dense_shadow(family, sample):
    psi = mpo.to_vector(mpo.random_mps(3, 2, 2, rng=3))
    data = family.sample(psi, 60, rng=4, **sample)
    values = q.snapshot_values(data, ALL3)
    fid_dense = q.snapshot_values(data, target=psi)
    fid_mps = q.snapshot_values(data, target=mpo.random_mps(3, 2, 2, rng=3))
    for i, one in enumerate(single_rows(data)):
        shadow = q.classical_shadow(one)
        dense = torch.stack([torch.trace(q.pauli(p) @ shadow).real for p in ALL3])
        torch.testing.assert_close(values[i], dense, rtol=0, atol=ROUNDING)
        want = float((psi.conj() @ shadow @ psi).real)
        assert abs(float(fid_dense[i]) - want) < ROUNDING and abs(float(fid_mps[i]) - want) < ROUNDING


def test_the_mean_is_the_dense_shadow_for_counts_settings_and_exact_probabilities():
    psi = mpo.to_vector(mpo.random_mps(3, 2, 2, rng=5))
    counts = q.Outcomes.from_bitstrings(
        q.LocalPauli(3), ["ZZZ", "XYX", "YYZ"], [{"000": 5, "011": 2}, {"101": 4, "111": 1}, {"010": 3}]
    )
    sic_counts = q.Outcomes.from_counts(
        q.LocalSIC(3), [4, 2, 1, 3], index=[[0, 1, 2], [3, 3, 0], [1, 1, 1], [2, 0, 3]]
    )
    haar_bases = q.HaarBases(3, n_settings=12).sample(psi, 30, rng=6)
    exact_probs = q.LocalPauli(3).sample(psi, None)
    for data in (counts, sic_counts, haar_bases, exact_probs):
        shadow = q.classical_shadow(data)
        result = q.estimate_observables(data, ALL3, groups=6, rng=0)
        dense = np.array([float(torch.trace(q.pauli(p) @ shadow).real) for p in ALL3])
        np.testing.assert_allclose(result.mean, dense, rtol=0, atol=ROUNDING)
    assert result.groups == 0 and result.copies == np.inf  # exact probabilities: the expectations
    truth = np.array([exact(psi, p) for p in ALL3])
    np.testing.assert_allclose(result.estimate, truth, atol=1e-12)
    np.testing.assert_array_equal(result.ci_low, result.estimate)
    assert counts.copies == 15 and q.estimate_observables(counts, ["ZII"], groups=6, rng=0).copies == 15


def test_the_group_count_and_the_sign_interval_levels():
    assert [min_groups(c) for c in (0.5, 0.9, 0.95, 0.99)] == [2, 5, 6, 8]
    assert auto_groups(3, 0.95) == 10 and auto_groups(1, 0.95) == 8 and auto_groups(1000, 0.99) == 25
    data = q.LocalPauli(2).sample(mpo.ghz(2), 500, rng=0)
    for groups, level in ((6, 1 - 2 / 64), (11, 1 - 2 * 12 / 2048), (14, 1 - 2 * 106 / 16384)):
        result = q.estimate_observables(data, ["ZZ"], groups=groups, rng=0)
        assert result.groups == groups and abs(result.level - level) < 1e-15 and level >= 0.95
        assert result.ci_low[0] <= result.estimate[0] <= result.ci_high[0]


# Coverage: for each observable, independent data sets; the misses must not reject "each
# interval misses with probability at most 5%" (exact binomial test at level 1e-3 per
# observable, so a calibrated interval fails this test with probability < 1e-2 at any seed).
COVERAGE_SETS = 40


@pytest.mark.parametrize("state", ["ghz", "random"])
def test_intervals_cover_the_exact_expectations_at_their_level(state):
    n = 4
    truth_mps = mpo.ghz(n) if state == "ghz" else mpo.random_mps(n, 2, 2, rng=11)
    psi = mpo.to_vector(truth_mps)
    labels = ["ZZII", "XXXX", "IYYI", "XYYX", "IIIZ", "ZIXY"]
    truth = np.array([exact(psi, p) for p in labels])
    fidelity_truth = 1.0
    misses, fid_misses, widths = np.zeros(len(labels), dtype=int), 0, []
    for seed in range(COVERAGE_SETS):
        data = q.LocalPauli(n).sample(truth_mps, 1500, rng=seed)
        result = q.estimate_observables(data, labels, rng=1000 + seed)
        misses += (result.ci_low > truth) | (result.ci_high < truth)
        widths.append(result.ci_high - result.ci_low)
        fid = q.fidelity_from_shadows(data, truth_mps, rng=2000 + seed)
        fid_misses += not fid.covers(fidelity_truth)
    alpha = 1e-3
    assert not any(too_many(int(k), COVERAGE_SETS, 0.05, alpha) for k in misses), misses
    assert not too_many(fid_misses, COVERAGE_SETS, 0.05, alpha), fid_misses
    # not trivially wide: about 2 x 2 standard errors of a weight-w Pauli (3^(w/2) / sqrt(M))
    weights = np.array([sum(c != "I" for c in p) for p in labels])
    assert np.all(np.mean(widths, axis=0) < 8 * 3.0 ** (weights / 2) / np.sqrt(1500))


def test_a_doctored_data_set_is_caught_swapped_y_outcomes_on_site_one():
    truth_mps = mpo.random_mps(3, 2, 2, rng=2)
    psi = mpo.to_vector(truth_mps)
    odd = [p for p in ALL3 if p[0] == "Y"]
    label = max(odd, key=lambda p: abs(exact(psi, p)))
    assert abs(exact(psi, label)) > 0.3
    data = q.LocalPauli(3).sample(truth_mps, 6000, rng=1)
    assert q.estimate_observables(data, [label], rng=2)[label].covers(exact(psi, label))
    index = data.index.clone()
    swap = {4: 5, 5: 4}  # Y+ <-> Y- at site 1
    index[:, 0] = torch.tensor([swap.get(int(k), int(k)) for k in index[:, 0]])
    doctored = q.Outcomes(data.povm, data.freqs, data.shots, index=index)
    assert not q.estimate_observables(doctored, [label], rng=2)[label].covers(exact(psi, label))
    assert not q.fidelity_from_shadows(doctored, truth_mps, rng=2).covers(1.0)


def test_bad_input_is_refused_naming_the_argument():
    data = q.LocalPauli(3).sample(mpo.ghz(3), 200, rng=0)
    est = q.estimate_observables
    with pytest.raises(ValueError, match=r"observables\[1\]: expected one letter per site \(n = 3\)"):
        est(data, ["ZZI", "ZZ"])
    with pytest.raises(
        ValueError, match=r"observables\[0\]: expected the letters I, X, Y, Z only, got \['a'"
    ):
        est(data, ["ZaI"])
    with pytest.raises(ValueError, match="observables: expected at least one Pauli string"):
        est(data, [])
    with pytest.raises(TypeError, match="observables: expected a list of Pauli strings"):
        est(data, "ZZI")
    with pytest.raises(TypeError, match="outcomes: expected quantum.Outcomes"):
        est(torch.ones(3), ["ZZI"])
    qutrits = q.LocalMUB(2, d=3).sample(mpo.ghz(2, d=3), 100, rng=0)
    with pytest.raises(ValueError, match=r"observables: Pauli strings are qubit observables \(d = 2\)"):
        est(qutrits, ["ZZ"])
    z_only = ProductFamily(2, q.mub_vectors(2)[:2], torch.ones(2, dtype=torch.float64))
    z_data = q.Outcomes.from_counts(z_only, [3, 1], index=[[0, 0], [1, 1]])
    with pytest.raises(ValueError, match="outcomes: the local POVM of .* is not a local 2-design"):
        est(z_data, ["ZZ"])
    with pytest.raises(ValueError, match="outcomes: the local POVM of .* is not a local 2-design"):
        q.fidelity_from_shadows(z_data, np.array([1, 0, 0, 0.0]))
    with pytest.raises(ValueError, match="groups: the sign-test interval of a median of 3 group means"):
        est(data, ["ZZI"], groups=3)
    with pytest.raises(ValueError, match="groups: expected 'auto'"):
        est(data, ["ZZI"], groups="many")
    with pytest.raises(ValueError, match=r"confidence: expected a number in \(0, 1\), got 1.5"):
        est(data, ["ZZI"], confidence=1.5)
    few = q.LocalPauli(3).sample(mpo.ghz(3), 5, rng=0)
    with pytest.raises(ValueError, match="outcomes: 5 independent copies .* cannot fill 10 groups"):
        est(few, ["ZZI", "XXX", "IYI"])
    with pytest.raises(ValueError, match="target: expected a pure state"):
        q.fidelity_from_shadows(data, torch.eye(8, dtype=torch.complex128) / 8)
    with pytest.raises(ValueError, match="target"):
        q.fidelity_from_shadows(data, np.ones(4) / 2)
    with pytest.raises(ValueError, match="target: expected a complex MPS of shape"):
        q.fidelity_from_shadows(data, mpo.ghz(4))


# --- bootstrap -------------------------------------------------------------------------------


def shadow_fidelity(outcomes):
    """The linear (unbiased) shadow fidelity with GHZ(3), a module-level estimator that worker
    processes import by name."""
    return q.fidelity_from_shadows(outcomes, mpo.ghz(3), groups=6, rng=0).mean


def test_bootstrap_is_reproducible_and_the_same_with_a_runner():
    data = q.LocalPauli(3).sample(mpo.ghz(3), 1500, rng=0)
    first = q.bootstrap(shadow_fidelity, data, resamples=20, rng=7)
    again = q.bootstrap(shadow_fidelity, data, resamples=20, rng=7)
    np.testing.assert_array_equal(first.replicates, again.replicates)
    other = q.bootstrap(shadow_fidelity, data, resamples=20, rng=8)
    assert not np.array_equal(first.replicates, other.replicates)
    with Runner(backend="serial") as runner:
        through = q.bootstrap(shadow_fidelity, data, resamples=20, rng=7, runner=runner)
    np.testing.assert_array_equal(first.replicates, through.replicates)
    assert first.value == shadow_fidelity(data) and first.ci_low <= first.ci_high
    assert first.standard_error == pytest.approx(np.std(first.replicates, ddof=1))


@pytest.mark.slow
def test_bootstrap_on_worker_processes_gives_the_serial_replicates():
    """About 7 s on two busy cores, nearly all of it starting the workers."""
    data = q.LocalPauli(3).sample(mpo.ghz(3), 500, rng=0)
    serial = q.bootstrap(shadow_fidelity, data, resamples=4, rng=3)
    with Runner(backend="processes", workers=2) as runner:
        parallel = q.bootstrap(shadow_fidelity, data, resamples=4, rng=3, runner=runner)
    np.testing.assert_array_equal(serial.replicates, parallel.replicates)


def test_bootstrap_interval_covers_the_truth_and_its_spread_matches_the_standard_error():
    """The shadow fidelity of GHZ(3) is unbiased: the percentile interval covers 1, and the
    bootstrap sd agrees with the empirical standard error of the mean (within 30%)."""
    data = q.LocalPauli(3).sample(mpo.ghz(3), 3000, rng=1)
    result = q.bootstrap(shadow_fidelity, data, resamples=60, rng=2)
    assert result.covers(1.0)
    se = q.fidelity_from_shadows(data, mpo.ghz(3), rng=0).standard_error
    assert 0.7 < result.standard_error / se < 1.3


def test_resampling_keeps_the_copies_of_every_setting():
    psi = mpo.to_vector(mpo.ghz(3))
    data = q.HaarBases(3, n_settings=5).sample(psi, 40, rng=0)
    new = resample(data, rng=1)
    per_setting = torch.zeros(5, dtype=torch.float64).index_add_(0, new.setting, new.freqs)
    torch.testing.assert_close(per_setting, torch.ones(5, dtype=torch.float64))
    assert (new.freqs * 40 == (new.freqs * 40).round()).all()
    pauli = q.Outcomes.from_bitstrings(q.LocalPauli(2), ["ZZ", "XX"], [{"00": 30}, {"00": 10, "11": 10}])
    basis = (pauli.index // 2) @ torch.tensor([1, 3])
    strat = resample(pauli, rng=1, strata=basis)
    kept = strat.freqs[(strat.index // 2 @ torch.tensor([1, 3])) == 0].sum()
    assert float(kept) == pytest.approx(30 / 50)


def test_bootstrap_refuses_bad_input():
    data = q.LocalPauli(3).sample(mpo.ghz(3), 100, rng=0)
    with pytest.raises(ValueError, match=r"outcomes: exact probabilities \(shots=None\) have no counts"):
        q.bootstrap(shadow_fidelity, q.LocalPauli(3).sample(mpo.to_vector(mpo.ghz(3)), None), resamples=5)
    with pytest.raises(ValueError, match="resamples: expected an integer >= 2"):
        q.bootstrap(shadow_fidelity, data, resamples=1)
    with pytest.raises(TypeError, match="estimator: expected a function"):
        q.bootstrap(0.5, data)
    with pytest.raises(TypeError, match="estimator: expected it to return a real scalar"):
        q.bootstrap(lambda o: "high", data, resamples=2)
    with pytest.raises(ValueError, match="estimator: returned a non-finite value"):
        q.bootstrap(lambda o: float("nan"), data, resamples=2)
    with pytest.raises(ValueError, match=r"strata: expected one integer setting label per outcome row"):
        q.bootstrap(shadow_fidelity, data, resamples=2, strata=np.zeros(3, dtype=int))
    with pytest.raises(TypeError, match="runner: expected a tensorrec.sweep.Runner"):
        q.bootstrap(shadow_fidelity, data, resamples=2, runner="processes")
    with pytest.raises(ValueError, match="confidence"):
        q.bootstrap(shadow_fidelity, data, resamples=2, confidence=0)


# --- the examples of docs/tomography.rst -----------------------------------------------------


def docs_example(title: str) -> tuple[str, list[str]]:
    """The first code block under ``title`` in docs/tomography.rst and the outputs its
    comments announce (the ``# ...`` lines right after a print, their first column)."""
    import pathlib
    import textwrap

    text = (pathlib.Path(__file__).parents[1] / "docs" / "tomography.rst").read_text()
    block = text.split(f"\n{title}\n", 1)[1].split(".. code-block:: python\n", 1)[1]
    lines = list(itertools.takewhile(lambda line: not line or line.startswith("    "), block.splitlines()))
    code = textwrap.dedent("\n".join(lines))
    announced = [line.strip()[2:].split("   (")[0] for line in code.splitlines() if line.startswith("# ")]
    return code, announced


def run_example(code: str) -> list[str]:
    import contextlib
    import io

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "docs/tomography.rst", "exec"), {})
    return printed.getvalue().splitlines()


def test_docs_example_of_observables_prints_what_it_announces():
    code, announced = docs_example("Observables and fidelities from shadows")
    assert len(announced) == 4
    assert run_example(code) == announced


def test_docs_example_of_the_bootstrap_runs():
    code, announced = docs_example("Error bars by bootstrap")
    (line,) = run_example(code)
    value, sd = (float(x.strip(",")) for x in line.split()[:3:2])
    assert value > 0.99 and 0 < sd < 0.01
    assert line == announced[0]  # the same numbers here (seeded; CPU torch)


def _pauli_counts(psi, basis, shots, gen):
    """Device-style counts of one Pauli setting (letters and bits site 1 first)."""
    h = np.array([[1, 1], [1, -1]]) / np.sqrt(2)
    rotation = {"Z": np.eye(2), "X": h, "Y": h @ np.diag([1, -1j])}
    op = np.array([[1.0]])
    for letter in basis:
        op = np.kron(op, rotation[letter])
    p = np.abs(op @ psi) ** 2
    draws = gen.multinomial(shots, p / p.sum())
    return {format(i, f"0{len(basis)}b"): int(c) for i, c in enumerate(draws) if c}


def test_skewed_settings_warn_that_shadow_estimates_are_biased():
    """A new user's data (issue 29 trial): every setting 100 shots plus 5000 extra in ZZZZ gave
    ZZII = 4.0 (exact 1) with no word; now a SettingsWarning names the site and the shares.
    Equal shots per setting and random settings stay silent (and correct)."""
    n, gen = 4, np.random.default_rng(0)
    psi = mpo.to_vector(mpo.ghz(n)).numpy()
    settings = ["".join(s) for s in itertools.product("ZXY", repeat=n)]
    tables = [_pauli_counts(psi, s, 100, gen) for s in settings]
    even = q.Outcomes.from_bitstrings(q.LocalPauli(n), settings, tables)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = q.estimate_observables(even, ["ZZII", "XXXX"], rng=1)
        q.estimate_observables(q.LocalPauli(n).sample(mpo.ghz(n), 8000, rng=1), ["ZZII"], rng=1)
    assert abs(result["ZZII"].estimate - 1) < 0.1 and abs(result["XXXX"].estimate - 1) < 0.15
    skew = q.Outcomes.from_bitstrings(
        q.LocalPauli(n), [*settings, "ZZZZ"], [*tables, _pauli_counts(psi, "ZZZZ", 5000, gen)]
    )
    with pytest.warns(q.SettingsWarning, match=r"site 1: X 21%, Y 21%, Z 59%"):
        q.estimate_observables(skew, ["ZZII"], rng=1)
    with pytest.warns(q.SettingsWarning, match="not uniformly random"):
        q.fidelity_from_shadows(skew, psi, rng=1)
