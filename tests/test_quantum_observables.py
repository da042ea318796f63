"""Observables and fidelities from classical shadows (median of means with intervals) and the
bootstrap of counts (issue 29)."""

import itertools
import warnings

import numpy as np
import pytest
import torch
from scipy import stats

from tensorrec import quantum as q
from tensorrec.quantum import mpo
from tensorrec.quantum.matched import matched_values, pauli_outcomes
from tensorrec.quantum.observables import _check_paulis, auto_groups, min_groups
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
    """The median-of-means families (SIC counts, Haar bases) give the dense shadow's value;
    LocalPauli exact probabilities (uniformly random settings) give it too, and the exact
    expectation, by the matched-basis estimator."""
    psi = mpo.to_vector(mpo.random_mps(3, 2, 2, rng=5))
    sic_counts = q.Outcomes.from_counts(
        q.LocalSIC(3), [4, 2, 1, 3], index=[[0, 1, 2], [3, 3, 0], [1, 1, 1], [2, 0, 3]]
    )
    haar_bases = q.HaarBases(3, n_settings=12).sample(psi, 30, rng=6)
    exact_probs = q.LocalPauli(3).sample(psi, None)
    for data in (sic_counts, haar_bases, exact_probs):
        shadow = q.classical_shadow(data)
        result = q.estimate_observables(data, ALL3, groups=6, rng=0)
        dense = np.array([float(torch.trace(q.pauli(p) @ shadow).real) for p in ALL3])
        np.testing.assert_allclose(result.mean, dense, rtol=0, atol=ROUNDING)
    assert result.groups == 0 and result.copies == np.inf  # exact probabilities: the expectations
    assert result.method == "matched" and np.all(result.matched_copies == np.inf)
    truth = np.array([exact(psi, p) for p in ALL3])
    np.testing.assert_allclose(result.estimate, truth, atol=1e-12)
    np.testing.assert_array_equal(result.ci_low, result.estimate)
    assert sic_counts.copies == 10
    assert q.estimate_observables(sic_counts, ["ZII"], groups=6, rng=0).copies == 10


def test_matched_estimates_of_pauli_counts_by_hand():
    """Settings ZZZ (7 copies), XYX (5), YYZ (3); bitstrings little-endian (the rightmost
    character is site 3). IIZ: matched by ZZZ and YYZ, 10 copies, +1 on 5 + 3 of them, -1 on
    2; YYI: the 3 copies of YYZ, bits 0, 1 on sites 1, 2, so -1; XIX: 101 and 111, +1 each."""
    counts = q.Outcomes.from_bitstrings(
        q.LocalPauli(3), ["ZZZ", "XYX", "YYZ"], [{"000": 5, "011": 2}, {"101": 4, "111": 1}, {"010": 3}]
    )
    result = q.estimate_observables(counts, ["IIZ", "YYI", "XIX", "III"], rng=0)
    np.testing.assert_array_equal(result.estimate, [0.6, -1.0, 1.0, 1.0])
    np.testing.assert_array_equal(result.matched_copies, [10, 3, 5, 15])
    assert result.method == "matched" and result.groups == 0 and result.copies == 15
    # Clopper-Pearson for 8 of 10, mapped to 2 p - 1; 0 of 3 and 5 of 5 reach the ends; tr(I rho) = 1
    ci = stats.binomtest(8, 10).proportion_ci(0.95, method="exact")
    assert result.ci_low[0] == pytest.approx(2 * ci.low - 1, abs=1e-12)
    assert result.ci_high[0] == pytest.approx(2 * ci.high - 1, abs=1e-12)
    assert result.ci_low[1] == -1 and result.ci_high[1] == pytest.approx(1 - 2 * 0.025 ** (1 / 3), abs=1e-12)
    assert result.ci_high[2] == 1 and result.ci_low[2] == pytest.approx(2 * 0.025 ** (1 / 5) - 1, abs=1e-12)
    assert result.ci_low[3] == result.ci_high[3] == 1
    with pytest.raises(ValueError, match=r"observables: no copy was measured in the bases of 'XXI', 'IIY'"):
        q.estimate_observables(counts, ["IIZ", "XXI", "IIY"])


def test_the_group_count_and_the_sign_interval_levels():
    assert [min_groups(c) for c in (0.5, 0.9, 0.95, 0.99)] == [2, 5, 6, 8]
    assert auto_groups(3, 0.95) == 10 and auto_groups(1, 0.95) == 8 and auto_groups(1000, 0.99) == 25
    data = q.LocalSIC(2).sample(mpo.ghz(2), 500, rng=0)  # Pauli data take the matched estimator
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
        q.fidelity_from_shadows(data, mpo.ghz(3), groups=3)  # Pauli strings form no groups: the fidelity does
    with pytest.raises(ValueError, match="groups: expected 'auto'"):
        est(data, ["ZZI"], groups="many")
    with pytest.raises(ValueError, match=r"confidence: expected a number in \(0, 1\), got 1.5"):
        est(data, ["ZZI"], confidence=1.5)
    few = q.LocalSIC(3).sample(mpo.ghz(3), 5, rng=0)
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


def _skewed_counts(psi, extra: int, shots: int, gen):
    """Every one of the 3^n Pauli settings ``shots`` copies, plus ``extra`` more in Z...Z (a new
    user's allocation, issue 29), as Outcomes of LocalPauli(n)."""
    n = int(np.log2(psi.shape[0]))
    settings = ["".join(s) for s in itertools.product("ZXY", repeat=n)]
    tables = [_pauli_counts(psi, s, shots, gen) for s in settings]
    settings, tables = [*settings, "Z" * n], [*tables, _pauli_counts(psi, "Z" * n, extra, gen)]
    return q.Outcomes.from_bitstrings(q.LocalPauli(n), settings, tables)


@pytest.mark.parametrize("state", ["ghz", "random"])
def test_skewed_settings_give_unbiased_pauli_estimates_without_a_warning(state):
    """A new user's data (issue 29 trial): every setting 100 shots plus 5000 extra in ZZZZ gave
    ZZII = 4.0 (exact 1) from the shadow values 3^w [bases match] signs. The matched-basis
    estimator covers the exact values and says nothing; the old value lies outside the
    interval (a doctored estimator fails this test), and the shadow values and the fidelity,
    which still assume uniform settings, keep their SettingsWarning."""
    n, gen = 4, np.random.default_rng(0)
    psi = mpo.to_vector(mpo.ghz(n) if state == "ghz" else mpo.random_mps(n, 2, 2, rng=7)).numpy()
    skew = _skewed_counts(psi, 5000, 100, gen)
    labels = ["ZZII", "XXXX", "ZZZZ", "IZIZ", "YXYX", "IIXZ"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = q.estimate_observables(skew, labels, confidence=0.99)
    truth = np.array([exact(torch.from_numpy(psi), p) for p in labels])
    assert all(result[p].covers(t) for p, t in zip(labels, truth, strict=True)), (result.estimate, truth)
    assert result.method == "matched" and result["ZZII"].matched_copies == 81 * 100 / 9 + 5000
    with pytest.warns(q.SettingsWarning, match=r"site 1: X 21%, Y 21%, Z 59%"):
        old = skew.freqs.numpy() @ q.snapshot_values(skew, labels).numpy()  # the shadow mean
    if state == "ghz":
        assert old[0] == pytest.approx(9 * 5900 / 13100, abs=1e-12) and truth[0] == pytest.approx(1)  # 4.05
    assert not result["ZZII"].covers(old[0]) and not result["ZZZZ"].covers(old[2]), (old, result.estimate)
    with pytest.warns(q.SettingsWarning, match="not uniformly random"):
        q.fidelity_from_shadows(skew, psi, rng=1)


def test_equal_shots_per_setting_and_random_settings_stay_silent():
    n, gen = 4, np.random.default_rng(0)
    psi = mpo.to_vector(mpo.ghz(n)).numpy()
    even = _skewed_counts(psi, 0, 100, gen)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = q.estimate_observables(even, ["ZZII", "XXXX"], rng=1)
        q.fidelity_from_shadows(even, psi, rng=1)
        q.fidelity_from_shadows(q.LocalPauli(n).sample(mpo.ghz(n), 8000, rng=1), psi, rng=1)
    assert result["ZZII"].covers(1.0) and result["XXXX"].covers(1.0)


def test_the_matched_value_is_the_shadow_value_over_three_to_the_weight():
    """Every one of the 36 outcomes of LocalPauli(2) on a mixed state: the shadow value of P is
    3^w [the bases match P on its support] (product of signs), so under uniformly random
    settings (P(match) = 3^-w) the two estimators have the same expectation, tr(P rho)."""
    rho = q.random_mixed_state(4, rng=3)
    data = q.LocalPauli(2).sample(rho, None)  # exact probabilities of all 36 outcomes
    labels = ["".join(p) for p in itertools.product("IXYZ", repeat=2)]
    assert len(data) == 36
    shadow = q.snapshot_values(data, labels).numpy()
    _, codes = _check_paulis(labels, 2, 2)
    match, value = matched_values(data.index, codes, *pauli_outcomes(data.povm))
    weight = (codes != 0).sum(axis=1)
    np.testing.assert_allclose(shadow, 3.0**weight * match * value, rtol=0, atol=ROUNDING)
    p = data.freqs.numpy()
    np.testing.assert_allclose(p @ match, 3.0**-weight, rtol=0, atol=ROUNDING)
    truth = np.array([float(torch.trace(q.pauli(label) @ rho).real) for label in labels])
    matched = q.estimate_observables(data, labels)
    np.testing.assert_allclose(p @ shadow, truth, rtol=0, atol=ROUNDING)
    np.testing.assert_allclose(matched.estimate, truth, rtol=0, atol=ROUNDING)
    assert pauli_outcomes(q.LocalSIC(2)) is None and pauli_outcomes(q.LocalMUB(2)) is not None


def test_matched_estimates_approach_the_exact_values_with_many_copies():
    psi = mpo.to_vector(mpo.random_mps(3, 2, 2, rng=8))
    data = q.LocalPauli(3).sample(psi, 400_000, rng=9)
    result = q.estimate_observables(data, ALL3, confidence=0.999)
    truth = np.array([exact(psi, p) for p in ALL3])
    assert np.all((result.ci_low - ROUNDING <= truth) & (truth <= result.ci_high + ROUNDING))  # III: [1, 1]
    assert np.max(np.abs(result.estimate - truth)) < 0.02
    assert np.all(np.abs(result.estimate - truth) < 4.5 * result.standard_error + ROUNDING)


COVERAGE_MANY = 300


def test_clopper_pearson_intervals_cover_at_their_level_for_weight_one_and_four():
    """300 data sets of 1500 LocalPauli copies of a random bond-2 MPS: the misses of XYZX
    (about 19 matched copies per data set) and IZII at 0.95 must not reject "misses at most
    5%" (exact binomial test at 1e-3 per string); halving the intervals around the estimate
    (a doctored interval) is rejected for both."""
    n, gen = 4, np.random.default_rng(12)
    psi = mpo.to_vector(mpo.random_mps(n, 2, 2, rng=13))
    family = q.LocalPauli(n)
    probs = family.probabilities(psi).reshape(-1).numpy()
    labels = ["XYZX", "IZII"]
    truth = np.array([exact(psi, p) for p in labels])
    misses, doctored = np.zeros(2, dtype=int), np.zeros(2, dtype=int)
    for counts in gen.multinomial(1500, probs / probs.sum(), size=COVERAGE_MANY):
        keep = np.flatnonzero(counts)
        index = np.stack(np.unravel_index(keep, (6,) * n), axis=1)
        result = q.estimate_observables(q.Outcomes.from_counts(family, counts[keep], index=index), labels)
        misses += (result.ci_low > truth) | (result.ci_high < truth)
        half = (result.ci_high - result.ci_low) / 4
        doctored += (result.estimate - half > truth) | (result.estimate + half < truth)
    alpha = 1e-3
    assert not any(too_many(int(k), COVERAGE_MANY, 0.05, alpha) for k in misses), misses
    assert all(too_many(int(k), COVERAGE_MANY, 0.05, alpha) for k in doctored), doctored


def test_pauli_data_check_only_the_type_of_groups_they_do_not_use():
    """Review finding: the matched estimate forms no groups, so a K too small for the median
    of means at this confidence is not an error there (it still is on SIC data)."""
    data = q.LocalPauli(3).sample(q.mpo.ghz(3), 600, rng=0)
    assert q.estimate_observables(data, ["ZZI"], groups=6, confidence=0.999)["ZZI"].covers(1.0)
    for bad, error in (("many", ValueError), (0, ValueError), (2.5, TypeError)):
        with pytest.raises(error, match="groups"):
            q.estimate_observables(data, ["ZZI"], groups=bad)
    sic = q.LocalSIC(3).sample(q.mpo.ghz(3), 600, rng=0)
    with pytest.raises(ValueError, match="groups: .* cannot reach confidence 0.999"):
        q.estimate_observables(sic, ["ZZI"], groups=6, confidence=0.999)
