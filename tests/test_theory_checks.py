"""Pass rules of theory checks that are not plain thresholds, on synthetic results."""

from tensorrec.runner import discover


def load(name):
    return next(script for script in discover() if script.name == name).load()


def c6_results(tucker_at_p, tucker_at_2p, tt_at_p, tt_at_3p, n=10):
    def cells(fmt, ratio, k):
        return [{"order": 4, "ratio": ratio, "success": i < k} for i in range(n)]

    return {
        "tucker": cells("tucker", 1.0, tucker_at_p) + cells("tucker", 2.0, tucker_at_2p),
        "tt": cells("tt", 1.0, tt_at_p) + cells("tt", 3.0, tt_at_3p),
        "bounds": {"tucker": (0.1, 0.9), "tt": (0.0, 0.95)},
        "alpha": 0.01,
    }


def test_c6_binomial_rule_tolerates_sampling_noise_but_not_a_missing_transition():
    check = load("tt_tucker_c6_phase_transition").check
    assert check(c6_results(0, 10, 0, 10)) == []
    assert check(c6_results(1, 8, 0, 9)) == []  # the full run's counts: within sampling noise
    (v,) = check(c6_results(0, 5, 0, 10))
    assert v.startswith("tucker N = 4, m = 2.0 p: 5/10 succeeded, significantly off the rate >= 90%")
    (v,) = check(c6_results(5, 10, 0, 10))
    assert v.startswith("tucker N = 4, m = 1.0 p: 5/10 succeeded")
    (v,) = check(c6_results(0, 10, 1, 10))  # a rate of 0 tolerates no success
    assert v.startswith("tt N = 4, m = 1.0 p: 1/10 succeeded")


def test_bdpr_noise_floor_rule_fails_off_floor_off_ratio_and_off_slope():
    check = load("bdpr_c11_noise_floor").check

    def rows(scale=1.0, power=1.0):
        out = []
        for gamma in (1e-3, 1e-2, 1e-1):
            predicted = gamma**2 * 14 / (200 - 15)
            err = scale * gamma**power / 1e-2 ** (power - 1) * (14 / 185) ** 0.5
            out += [{"m": 200, "gamma": gamma, "final_error": err, "predicted": predicted,
                     "ratio": err / (gamma * (16 / 200) ** 0.5)} for _ in range(4)]  # fmt: skip
        return {"rows": out, "mse_tolerance": 0.15, "ratio_band": (0.8, 1.15), "slope_tolerance": 0.05}

    assert check(rows()) == []
    assert any("off gamma^2 d / (m - d - 1)" in v for v in check(rows(scale=1.2)))
    assert any("mean ratio" in v for v in check(rows(scale=0.8)))
    assert any("log-log slope" in v for v in check(rows(power=1.2)))


def test_bdpr_spurious_minima_rule_needs_a_strict_minimum_and_a_falling_failure_rate():
    check = load("bdpr_c12_spurious_minima").check

    def row(m, outcome, value=0.4, eig=0.1):
        return {"m": m, "outcome": outcome, "value": value, "grad_norm": 1e-12, "min_eigenvalue": eig}

    good = [row(100, "spurious_minimum")] * 5 + [row(100, "global")] * 5 + [row(1600, "global")] * 10
    results = {"rows": good, "ms": (100, 1600), "max_failure_large_m": 0.25}
    assert check(results) == []
    no_min = [row(100, "unconverged")] * 5 + good[5:]
    assert any("no start ended at a strict local minimum" in v for v in check({**results, "rows": no_min}))
    bad_large = good[:10] + [row(1600, "spurious_minimum")] * 6 + [row(1600, "global")] * 4
    violations = check({**results, "rows": bad_large})
    assert any("failure fraction 0.60 > 0.25" in v for v in violations)
    assert any("does not fall with m" in v for v in violations)


def test_bdpr_regularity_rule_fails_an_off_table_constant():
    check = load("bdpr_c15_regularity").check
    row = {"radius": 0.5, "alpha0": 1.61718, "exact_alpha0": 1.61718, "best": (0.89, 0.2775, 0.9879),
           "exact_best": 0.989}  # fmt: skip
    local = [{"model": "A", "kappa": 2.0, "max_rel_deviation": 1e-7}]
    assert check({"rows": [row], "local": local}) == []
    low = {**row, "alpha0": 1.6}  # below the exact minimum: sampling can only overestimate
    assert any("alpha(0) = 1.60000 is -1.062% off" in v for v in check({"rows": [low], "local": local}))
    far = [{**local[0], "max_rel_deviation": 2e-3}]
    assert any("frontier deviates" in v for v in check({"rows": [row], "local": far}))


def test_a_check_reuses_the_trials_its_experiment_computed(tmp_path, monkeypatch):
    """E9 and claim C9 run the same sweep: the check, run after the experiment into the same
    output root, reads every trial from the shared study log and computes none."""
    import json

    from tensorrec.studies import tucker_tt

    experiment, check = load("tt_tucker_retraction_ablation"), load("tt_tucker_c9_retraction")
    assert experiment.STUDY == check.STUDY == "tt_tucker_sensing"
    argv = ["--quick", "--out", str(tmp_path), "--iterations", "30"]
    assert experiment.main(argv) == 0

    def boom(*args, **kwargs):
        raise AssertionError("a trial the experiment computed was computed again")

    monkeypatch.setattr(tucker_tt, "sensing_trials", boom)
    check.main(argv)  # 30 iterations are too few for the claim: only the reuse is tested here
    rows = json.loads((tmp_path / "tt_tucker_retraction_ablation" / "results.json").read_text())["rows"]
    rates = json.loads((tmp_path / "tt_tucker_c9_retraction" / "results.json").read_text())["rates"]
    assert rates == {f"{r['draw']}/{r['retraction']}": r["rate"] for r in rows}
    assert (tmp_path / "_trials" / "tt_tucker_sensing.jsonl").exists()
