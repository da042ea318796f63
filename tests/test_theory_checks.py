"""Pass rules of theory checks that are not plain thresholds, on synthetic results."""

import dataclasses
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from tensorrec.runner import discover


def load(name):
    return next(script for script in discover() if script.name == name).load()


def load_calibration(name):
    """The module of ``calibration/<name>.py`` (a script, not a package)."""
    path = Path(__file__).resolve().parents[1] / "calibration" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"{name}_calibration", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def c6_results(tucker_at_p, tucker_at_2p, tt_at_p, tt_at_3p, n=10):
    def cells(fmt, ratio, k):
        return [{"order": 4, "ratio": ratio, "success": i < k} for i in range(n)]

    return {
        "tucker": cells("tucker", 1.0, tucker_at_p) + cells("tucker", 2.0, tucker_at_2p),
        "tt": cells("tt", 1.0, tt_at_p) + cells("tt", 3.0, tt_at_3p),
        "bounds": {"tucker": (0.1, 0.9), "tt": (0.1, 0.95)},
        "alpha": 1e-3,
    }


def test_c8_band_fails_no_decay_a_slow_decay_and_a_too_fast_one():
    check = load("tt_tucker_c8_spectral_init").check

    def results(ratio_tt, ratio_tucker):
        return {"band": (0.30, 0.55), "ms": (200, 800), "tt": {"200": 0.7, "800": 0.7 * ratio_tt},
                "tucker": {"200": 0.8, "800": 0.8 * ratio_tucker}}  # fmt: skip

    assert check(results(0.41, 0.39)) == []
    for bad in (1.0, 0.71, 0.25):
        (v,) = check(results(bad, 0.39))
        assert v.startswith("tt: mean init error") and "outside [0.3, 0.55]" in v
        assert len(check(results(0.41, bad))) == 1


def test_c12_threshold_tolerates_one_unlucky_trial_but_not_a_missing_transition():
    script = load("tt_tucker_c12_order_scaling")

    def rows(order, successes):  # ratio -> success count of 3 trials
        return [
            {"order": order, "ratio": c, "success": i < k} for c, k in successes.items() for i in range(3)
        ]

    assert script.threshold(rows(5, {2.0: 0, 3.0: 2}), 5, (2.0, 3.0), 0.9, 0.01) == 3.0  # one unlucky start
    assert script.threshold(rows(5, {2.0: 0, 3.0: 0}), 5, (2.0, 3.0), 0.9, 0.01) is None
    many = [{"order": 6, "ratio": 3.0, "success": i < 5} for i in range(10)]
    assert script.threshold(many, 6, (3.0,), 0.9, 0.01) is None  # 5/10 at 3p: no threshold
    config = {"rate_span": 0.02, "rate_drift": 0.01, "max_threshold": 3.0, "max_growth": 2.0}
    results = {"tucker_gaps": {"3": 0.0, "6": 0.0}, "tt_thresholds": {"4": 3.0, "5": None}, "config": config}
    (v,) = script.check(results)
    assert v.startswith("TT threshold m/p above 3.0 for some N")


def test_c12_tucker_rule_reads_rates_against_their_predictions_and_fails_a_slowing_rate():
    script = load("tt_tucker_c12_order_scaling")
    config = {"rate_span": 0.02, "rate_drift": 0.01, "max_threshold": 3.0, "max_growth": 2.0}

    def results(gaps):
        return {"tucker_gaps": gaps, "tt_thresholds": {"4": 2.0, "6": 3.0}, "config": config}

    # the calibrated spread: gaps within 0.001 of each other pass
    assert (
        script.check(results({"3": -0.0001, "4": -0.0001, "6": -0.0001, "8": -0.0003, "10": -0.0007})) == []
    )
    (v,) = script.check(results({"3": 0.0, "6": 0.005, "10": 0.015}))  # slows by 0.015 over N
    assert v.startswith("Tucker rate slows with N") and "(N = 10)" in v
    violations = script.check(results({"3": 0.0, "6": 0.025, "10": 0.021}))  # spans 0.025 and slows
    assert len(violations) == 2 and violations[0].startswith("Tucker rates (relative to their predictions)")


def test_c3_rule_normalises_by_each_draws_prediction_and_fails_an_order_dependent_rate():
    check = load("tt_tucker_c3_factorization_rate").check

    def row(order, q, predicted=0.9, seed=0):
        return {
            "format": "tt",
            "order": order,
            "seed": seed,
            "asymptotic_rate": q,
            "predicted_at_scale": predicted,
        }

    def results(rows):
        return {"rows": rows, "prediction_band": (0.9, 1.4), "large_order": 8, "tol": 0.005}

    good = [
        row(3, 0.922, predicted=0.9215),
        row(3, 0.862, predicted=0.862, seed=1),
        row(8, 0.9001),
        row(8, 0.8999, seed=1),
    ]
    assert check(results(good)) == []  # outside the spec's [0.86, 0.92] band, but on the formula
    slow_at_8 = check(results([*good[:2], row(8, 0.95), row(8, 0.95, seed=1)]))  # rate changes with N
    assert (
        len(slow_at_8) == 3 and "tt N = 8 seed 0: asymptotic rate 0.9500, contraction 0.500x" in slow_at_8[0]
    )
    assert slow_at_8[2] == "tt N = 8: mean rate 0.9500 not within 0.005 of 0.90"
    assert check(results([row(8, 0.893, predicted=0.893), row(8, 0.894, predicted=0.894, seed=1)])) == [
        "tt N = 8: mean rate 0.8935 not within 0.005 of 0.90"
    ]
    assert check(results([row(3, float("nan"))]))  # no linear phase


def test_c5_rate_rule_is_paired_and_fails_flat_or_rising_rates():
    check = load("tt_tucker_c5_sensing_spectral").check

    def results(rates_by_m):  # m -> per-draw rates (tt grid; tucker grid fixed and good)
        def grid(fmt, table):
            return [{"format": fmt, "order": 6, "d": 3, "m": m, "draw": k, "rate": q}
                    for m, qs in table.items() for k, q in enumerate(qs)]  # fmt: skip

        good = {200: [0.95, 0.94], 400: [0.91, 0.90], 800: [0.88, 0.89]}
        success = [{"final_error": 1e-12}] * 4
        return {"success": {"tt": success, "tucker": success}, "targets": {"tt": 1e-8, "tucker": 1e-11},
                "min_fraction": 0.9, "rise_tolerance": 0.01,
                "grids": {"tt": grid("tt", rates_by_m), "tucker": grid("tucker", good)}}  # fmt: skip

    assert check(results({144: [0.97, 0.96], 288: [0.95, 0.955], 576: [0.945, 0.94]})) == []
    assert check(results({144: [0.97, 0.96], 288: [0.96, 0.96], 576: [0.965, 0.955]})) == []  # within noise
    (v,) = check(results({144: [0.95, 0.96], 288: [0.95, 0.96], 576: [0.95, 0.96]}))  # flat
    assert "the rate does not improve from m = 144 to 576" in v
    (v,) = check(results({144: [0.95, 0.95], 288: [0.92, 0.92], 576: [0.94, 0.94]}))  # rises by 0.02
    assert "rises by more than 0.01 between neighbours" in v
    (v,) = check(results({144: [0.93, 0.93], 288: [0.94, 0.94], 576: [0.95, 0.95]}))  # worse with m
    assert "does not improve" in v


def test_c5_quick_success_rule_is_half_of_four_and_fails_a_method_that_mostly_fails():
    script = load("tt_tucker_c5_sensing_spectral")
    assert script.QUICK["draws"] == 4 and script.QUICK["min_fraction"] == 0.5  # quick_draws.md
    good = [{"format": "tt", "order": 6, "d": 3, "m": m, "draw": k, "rate": q}
            for m, q in ((144, 0.97), (288, 0.95), (576, 0.94)) for k in range(2)]  # fmt: skip

    def results(errors):
        rows = [{"final_error": e} for e in errors]
        return {"success": {"tt": rows, "tucker": [{"final_error": 1e-12}] * 4},
                "targets": {"tt": 1e-8, "tucker": 1e-11}, "min_fraction": 0.5, "rise_tolerance": 0.01,
                "grids": {"tt": good, "tucker": [{**r, "format": "tucker"} for r in good]}}  # fmt: skip

    assert script.check(results([1e-12, 1e-12, 0.3, 0.4])) == []  # two stuck draws: a true claim's rare event
    (v,) = script.check(results([1e-12, 0.3, 0.4, 0.5]))  # three of four stuck
    assert v.startswith("tt:")


def test_c6_binomial_rule_tolerates_sampling_noise_but_not_a_missing_transition():
    check = load("tt_tucker_c6_phase_transition").check
    assert check(c6_results(0, 10, 0, 10)) == []
    assert check(c6_results(1, 8, 0, 9)) == []  # the full run's counts: within sampling noise
    assert check(c6_results(0, 5, 1, 10)) == []  # p = 1.6e-3 and one TT success at m = p: not significant
    (v,) = check(c6_results(0, 4, 0, 10))
    assert v.startswith("tucker N = 4, m = 2.0 p: 4/10 succeeded, significantly off the rate >= 90%")
    (v,) = check(c6_results(6, 10, 0, 10))
    assert v.startswith("tucker N = 4, m = 1.0 p: 6/10 succeeded")
    (v,) = check(c6_results(0, 10, 6, 10))  # TT at m = p: at most 10%
    assert v.startswith("tt N = 4, m = 1.0 p: 6/10 succeeded")
    assert check(c6_results(0, 6, 0, 3, n=6)) == []  # the quick cells: 3 of 6 at m = 3p, p = 2.2e-3
    (v,) = check(c6_results(0, 6, 0, 2, n=6))  # 2 of 6: p = 8.6e-5
    assert v.startswith("tt N = 4, m = 3.0 p: 2/6 succeeded")


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


def test_bdpr_noise_floor_calibrated_tolerance_passes_the_measured_spread_but_fails_a_wrong_floor():
    script = load("bdpr_c11_noise_floor")
    cfg = script.Config()
    assert cfg.mse_tolerance == 0.25  # calibration/bdpr_c11_noise_floor.json: 7.5e-4 per quick run

    def results(mse_scale):  # every trial at mse_scale x the floor, m = 200
        out = []
        for gamma in cfg.gammas:
            predicted = gamma**2 * 14 / (200 - 15)
            err = (mse_scale * predicted) ** 0.5
            out += [{"m": 200, "gamma": gamma, "final_error": err, "predicted": predicted,
                     "ratio": err / (gamma * (16 / 200) ** 0.5)} for _ in range(40)]  # fmt: skip
        return {"rows": out, "mse_tolerance": cfg.mse_tolerance, "ratio_band": cfg.ratio_band,
                "slope_tolerance": cfg.slope_tolerance}  # fmt: skip

    assert script.check(results(1.04 + 3 * 0.061)) == []  # 3 sds of a 40-trial mean above the measured 1.04
    assert script.check(results(1.04 - 3 * 0.061)) == []
    for wrong in (1.3, 0.7, 2.0):  # a floor off by 30% or a factor 2
        violations = script.check(results(wrong))
        assert violations and all("off gamma^2 d / (m - d - 1)" in v or "mean ratio" in v for v in violations)
        assert any("off gamma^2 d / (m - d - 1)" in v for v in violations)


def test_bdpr_c11_calibration_script_runs_and_reports_each_tolerance(tmp_path):
    module = load_calibration("bdpr_c11_noise_floor")
    assert module.main(["--draws", "2", "--resamples", "50", "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "calibration" / "bdpr_c11_noise_floor.json").read_text())
    assert {m["mse_tolerance"] for m in summary["modes"].values()} >= {0.15, 0.25}
    assert all(0 <= m["false_fail_resampled"] <= 1 for m in summary["modes"].values())
    assert set(summary["per_cell"]) == {"m=200 gamma=0.001", "m=200 gamma=0.01", "m=200 gamma=0.1"}


def test_c7_quick_mode_averages_20_seeds_and_the_band_still_fails_a_wrong_floor():
    script = load("tt_tucker_c7_noise_floor")
    assert script.QUICK["seeds"] == 20  # calibration/tt_tucker_c7_noise_floor.json: 4.5e-5 per quick run

    def results(tt_mean, tucker_mean=1.0):
        def rows(mean):  # 20 seeds around ``mean`` x the floor, per-seed spread 0.25
            spread = 0.25 * np.linspace(-1.6, 1.6, 20)
            return [{"m": 400, "gamma": 1e-2, "final_sq_error": (mean + e) * 1e-3, "predicted": 1e-3}
                    for e in spread]  # fmt: skip

        return {"tt": rows(tt_mean), "tucker": rows(tucker_mean), "band": script.Config().band}

    assert script.check(results(1.0)) == []
    assert script.check(results(1.02 - 3 * 0.27 / 20**0.5, 1.02 + 3 * 0.27 / 20**0.5)) == []
    for wrong in (0.75, 1.35):  # a floor off by 25% or 35%
        (v,) = script.check(results(wrong))
        assert v.startswith("tt m = 400, gamma = 0.01: mean ||X - X*||^2") and "x the floor" in v
        assert len(script.check(results(1.0, wrong))) == 1


def test_c7_calibration_script_runs_and_reports_quick_and_full_rules(tmp_path):
    module = load_calibration("tt_tucker_c7_noise_floor")
    assert module.main(["--draws", "2", "--resamples", "100", "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "calibration" / "tt_tucker_c7_noise_floor.json").read_text())
    assert "quick, 20 seeds, band [0.8, 1.3]" in summary["modes"]
    assert "full, 20 seeds, band [0.8, 1.3]" in summary["modes"]
    assert all(0 <= m["false_fail_resampled"] <= 1 for m in summary["modes"].values())
    assert len(summary["per_cell"]) == 8


def test_bdpr_c10_fails_a_missed_target_and_its_calibration_script_runs(tmp_path):
    script = load("bdpr_c10_finite_sample")
    rows = [{"init_error": 0.5, "final_error": 9e-11, "iterations": 62} for _ in range(4)]
    assert script.QUICK == {"trials": 4, "min_fraction": 0.75}  # 5.8e-4 per run at the 95% bound
    assert script.check({"rows": rows, "target": 1e-10, "min_fraction": 0.75}) == []
    stuck = {"init_error": 0.5, "final_error": 0.86, "iterations": 300}  # a start outside the basin
    assert script.check({"rows": [*rows[:3], stuck], "target": 1e-10, "min_fraction": 0.75}) == []
    (v,) = script.check({"rows": [*rows[:2], stuck, stuck], "target": 1e-10, "min_fraction": 0.75})
    assert v.startswith("2/4 trials reached 1e-10")
    (v,) = script.check({"rows": [*rows[:3], stuck], "target": 1e-10, "min_fraction": 0.9})  # full: 9 of 10
    assert v.startswith("3/4 trials reached 1e-10")
    module = load_calibration("bdpr_c10_finite_sample")
    assert module.rule_false_fail(0.01, 4, 0.9) == pytest.approx(1 - 0.99**4)
    assert module.main(["--draws", "2", "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "calibration" / "bdpr_c10_finite_sample.json").read_text())
    assert summary["draws"] == 2 and set(summary["modes"]) == {"quick", "full"}


def test_bdpr_c13_needs_7_of_10_random_starts():
    check = load("bdpr_c13_true_bdpr").check
    assert load("bdpr_c13_true_bdpr").Config.min_fraction == 0.7

    def results(successes):
        return {"rows": [{"success": k < successes, "final_error": 1e-9 if k < successes else 0.4}
                         for k in range(10)], "min_fraction": 0.7}  # fmt: skip

    assert check(results(7)) == []  # random starts fail at 1.4%: 3 misses are a true claim's rare event
    (v,) = check(results(6))
    assert v.startswith("6/10 random starts reached")


def test_c14_calibration_script_runs_and_its_runs_match_the_check(tmp_path):
    module = load_calibration("tt_tucker_c14_gauss_newton_noise")
    assert module.main(["--draws", "2", "--resamples", "20", "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "calibration" / "tt_tucker_c14_gauss_newton_noise.json").read_text())
    cells = {f"{fmt} gamma={g}" for fmt in ("tt", "tucker") for g in ("0.001", "0.01")}
    assert set(summary["per_cell"]) == cells
    assert set(summary["modes"]) == {"quick", "full"}
    assert all(0 <= m["false_fail_resampled"] <= 1 for m in summary["modes"].values())


def test_c13_calibration_script_runs_and_reports_each_per_run_margin(tmp_path):
    module = load_calibration("tt_tucker_c13_gauss_newton_order")
    assert module.main(["--draws", "2", "--resamples", "20", "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "calibration" / "tt_tucker_c13_gauss_newton_order.json").read_text())
    assert set(summary["per_cell"]) == {f"{fmt} m={m}" for fmt in ("tt", "tucker") for m in (200, 400)}
    assert all(set(t) == {"order", "iterations_to_target"} for t in summary["per_cell"].values())
    assert all(0 <= m["false_fail_resampled"] <= 1 for m in summary["modes"].values())


def test_bdpr_spurious_minima_rule_needs_a_strict_minimum_and_a_falling_failure_rate():
    check = load("bdpr_c12_spurious_minima").check

    def row(m, outcome, value=0.4, eig=0.1):
        return {"m": m, "outcome": outcome, "value": value, "grad_norm": 1e-12, "min_eigenvalue": eig}

    good = [row(100, "spurious_minimum")] * 5 + [row(100, "global")] * 5 + [row(1600, "global")] * 10
    results = {"rows": good, "ms": (100, 1600), "max_failure_large_m": 0.25, "alpha": 1e-3}
    assert check(results) == []
    no_min = [row(100, "unconverged")] * 5 + good[5:]
    assert any("no start ended at a strict local minimum" in v for v in check({**results, "rows": no_min}))
    bad_large = good[:10] + [row(1600, "spurious_minimum")] * 6 + [row(1600, "global")] * 4
    violations = check({**results, "rows": bad_large, "alpha": 1e-3})
    assert any("failure fraction 0.60 > 0.25" in v for v in violations)
    assert not any("rises with m" in v for v in violations)  # 6 of 10 against 5 of 10: not significant
    risen = [row(100, "spurious_minimum")] + [row(100, "global")] * 15
    risen += [row(1600, "spurious_minimum")] * 12 + [row(1600, "global")] * 4
    (v,) = check({**results, "rows": risen, "max_failure_large_m": 1.0, "alpha": 1e-3})
    assert "rises with m: 0.06 (m = 100), 0.75 (m = 1600)" in v
    seed25 = [row(100, "spurious_minimum")] * 3 + [row(100, "global")] * 13
    seed25 += [row(1600, "unconverged")] * 4 + [row(1600, "global")] * 12
    assert check({"rows": seed25, "ms": (100, 1600), "max_failure_large_m": 0.375, "alpha": 1e-3}) == []


def test_rate_formula_rule_reads_the_sigma_max_advantage_against_its_prediction():
    check = load("tt_tucker_c4_rate_formula").check

    def rows(observed_fast, predicted_fast=0.80990):  # seed 10, N = 3: predicted advantage 8.6e-5
        base = {"format": "tucker", "order": 3, "seed": 0, "step": 0.5}
        slow = {**base, "scale": "truth", "asymptotic_rate": 0.81000, "predicted": 0.80999}
        fast = {
            **base,
            "scale": "truth_spectral",
            "asymptotic_rate": observed_fast,
            "predicted": predicted_fast,
        }
        return [slow, fast]

    ok = {"tolerance": 0.015, "advantage_tolerance": 0.002}
    assert check({**ok, "rows": rows(0.81002)}) == []  # a near-tie a paired fit error reverses: passes
    (v,) = check({**ok, "rows": rows(0.81000, predicted_fast=0.79999)})  # none, 0.01 predicted
    assert "faster by 0.0000, predicted 0.0100" in v
    assert check({**ok, "rows": rows(0.80100, predicted_fast=0.79999)}) == []  # 0.009 of 0.01: within 0.002
    (v,) = check({**ok, "rows": rows(0.8180)})  # sigma_max^2 slower by 0.008 beyond the prediction
    assert "faster by -0.0080, predicted 0.0001" in v
    (v,) = check({**ok, "rows": rows(0.81, predicted_fast=0.812)})  # a formula that says 'slower'
    assert "predicted no faster" in v


def test_retraction_rule_compares_rates_or_stalled_errors_and_fails_a_one_sided_nan():
    check = load("tt_tucker_c9_retraction").check
    nan = float("nan")
    rates = {"0/polar": 0.9, "0/qr": 0.9002, "1/polar": 0.95, "1/qr": 0.95}
    ok = {"seeds": 2, "tolerance": 1e-3, "rates": rates, "finals": dict.fromkeys(rates, 1e-12)}
    assert check(ok) == []
    stalled = {**ok, "rates": {**ok["rates"], "0/polar": nan, "0/qr": nan},
               "finals": {**ok["finals"], "0/polar": 0.06934, "0/qr": 0.06934}}  # seed 82's draw  # fmt: skip
    assert check(stalled) == []
    (v,) = check({**stalled, "finals": {**stalled["finals"], "0/qr": 0.08}})
    assert "no rate; last errors" in v
    (v,) = check({**ok, "rates": {**ok["rates"], "0/qr": nan}})  # one retraction without a rate
    assert v.startswith("seed 0: polar rate 0.90000 vs QR rate nan")
    (v,) = check({**ok, "rates": {**ok["rates"], "0/qr": 0.91}})
    assert v.startswith("seed 0: polar rate")
    both = {k: nan for k in ok["rates"]}
    assert any("nothing compared" in v for v in check({**stalled, "rates": both, "finals": ok["finals"]}))


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
    assert (tmp_path / "_trials" / "tt_tucker_sensing.sqlite").exists()


# --- exact checks (tomography, SAE): each passes its own quick results, fails doctored ones --

EXACT_DOCTORS = {
    "tomo_c1_stabilizer_design": lambda r: r["rows"][0]["defects"].update({4: 0.0}),  # "a 4-design"
    "tomo_c2_mub_design": lambda r: r["rows"][0].update(defect_holds=1e-6),
    "tomo_c20_product_not_design": lambda r: r["rows"][0].update(t2=1e-14),
    "tomo_c3_sic_frame": lambda r: r.update(worst=1e-9),
    "tomo_c12_trace_vs_frobenius": lambda r: r["worst"].update(trace_vs_frobenius=0.01),
    "tomo_c4_design_embedding": lambda r: r["rows"][-1].update(worst=0.1),
    "tomo_c5_least_squares_shadow": lambda r: r.update(step=1e-6),
    "tomo_c6_third_moment": lambda r: r.update(max_ratio=3.2),
    "tomo_c14_local_sic_conditioning": lambda r: r["rows"][-1].update(condition=3.0),
    "tomo_c13_pepo_difference": lambda r: next(iter(r["errors"].values())).update({"rho1 - rho2": 1e-9}),
    "tomo_c18_exact_contraction": lambda r: r["errors"]["D=2"].update({"tr rho / (sqrt(N) ||rho||_F)": 1e-6}),
    "sae_c1_prox_identities": lambda r: r["vector"].update(abstopk=0.1),
    "sae_c2_one_step": lambda r: r["worst"].update(topk=1e-6),
    "sae_c3_sign_structure": lambda r: r.update(topk_odd=True),
    "sae_c14_nmse_conventions": lambda r: r["rows"][0].update(raw=r["rows"][0]["centred"]),
    "sae_c7_l0_exact": lambda r: r["rows"][-1].update(violations=3),
}


@pytest.mark.parametrize("name", list(EXACT_DOCTORS))
def test_exact_checks_pass_their_quick_results_then_fail_doctored_ones(name):
    module = load(name)
    cfg = dataclasses.replace(module.Config(), **module.QUICK)
    results = module.compute(cfg, np.random.default_rng(0))
    assert module.check(results) == []
    EXACT_DOCTORS[name](results)
    assert module.check(results)


def test_tomography_statistical_checks_fail_biased_or_off_band_results():
    c7 = load("tomo_c7_raw_shadow_error").check
    row = {"N": 8, "M": 2000, "mean": 70.0, "se": 1.5, "predicted": 70.3}
    assert c7({"rows": [row], "z": 4.5}) == []
    assert c7({"rows": [{**row, "mean": 0.8 * 70.3}], "z": 4.5})  # a 20% bias, 9 standard errors
    c8 = load("tomo_c8_projected_error").check
    row = {"N": 8, "M": 10000, "mean": 24.0, "se": 1.5, "predicted": 25.2}
    assert c8({"rows": [row], "band": [0.75, 1.25], "z": 4.5}) == []
    assert c8({"rows": [{**row, "mean": 70.6}], "band": [0.75, 1.25], "z": 4.5})  # the raw shadow's error
    c16 = load("tomo_c16_clifford_sampler").check
    ok = {"chi2": 60.0, "dof": 59, "p_value": 0.44, "alpha": 1e-3, "worst_match": 1e-15}
    assert c16(ok) == []
    assert c16({**ok, "p_value": 1e-5}) and c16({**ok, "worst_match": 1e-8})
    c17 = load("tomo_c17_beta_sampler").check
    row = {"N": 8, "moment": 1, "mean": 0.2225, "se": 6e-4, "exact": 2 / 9}
    assert c17({"rows": [row], "z": 4.5}) == []
    assert c17({"rows": [{**row, "mean": 1 / 8}], "z": 4.5})  # unweighted Haar vectors: E = 1/N


def test_c15_fails_an_exponential_error_a_wrong_rate_or_pgd_not_pcs():
    check = load("tomo_c15_mpo_copies").check
    cells = [
        {"n": n, "D": 1, "M": 1000, "p": 10, "mean_error2": 1e-3, "C": 1.5, "in_regime": True}
        for n in (3, 4, 5)
    ]
    cells.append({**cells[0], "n": 8, "C": 9.0, "in_regime": False})  # pre-asymptotic: reported only
    ok = {
        "cells": cells,
        "slope": -1.02,
        "pgd_gap": 1e-15,
        "band": [0.5, 5.0],
        "slope_band": [-1.3, -0.7],
        "identity_tol": 1e-10,
        "regime": 30.0,
    }
    assert check(ok) == []
    raw = [{**c, "C": 4.0 ** c["n"] / 10} for c in cells]  # the raw shadow's error: 4^n / p
    assert check({**ok, "cells": raw})
    assert check({**ok, "slope": -0.5}) and check({**ok, "pgd_gap": 1e-6})
    assert check({**ok, "cells": [{**c, "in_regime": False} for c in cells]})  # nothing tested is a failure


def test_c5_fragmentation_rules_fail_when_topk_does_not_split_or_abstopk_does():
    check = load("sae_c5_fragmentation").check
    ok = {
        "n": 32, "nmse_topk_n": 0.27, "nmse_abstopk_n": 0.17, "atoms_topk_2n": 1.25, "atoms_abstopk_2n": 1.0,
        "antipodal_topk_2n": 9.0, "antipodal_abstopk_2n": 0.0,
        "thresholds": {"topk_atoms_min": 1.0, "antipodal_fraction": 0.1, "abstopk_atoms_max": 1.15},
    }  # fmt: skip
    assert check(ok) == []
    assert check({**ok, "nmse_abstopk_n": 0.3})
    assert check({**ok, "atoms_topk_2n": 0.9, "antipodal_topk_2n": 1.0})  # TopK not fragmenting
    assert check({**ok, "atoms_abstopk_2n": 1.5})  # AbsTopK fragmenting too


def test_c5_quick_mode_averages_4_seeds_and_still_fails_a_topk_that_does_not_split():
    script = load("sae_c5_fragmentation")
    assert script.QUICK["seeds"] == 4  # calibration/sae_c5_fragmentation.json: 2.5e-4 per quick run
    t = {k: script.QUICK[k] for k in ("topk_atoms_min", "antipodal_fraction", "abstopk_atoms_max")}
    sd4 = {"atoms": 0.1424 / 2, "pairs": 3.366 / 2}  # the measured per-seed sds over 4 seeds
    low = {"n": 32, "nmse_topk_n": 0.263, "nmse_abstopk_n": 0.263 - 0.101, "atoms_abstopk_2n": 1.0,
           "atoms_topk_2n": 1.2325 - 3 * sd4["atoms"], "antipodal_topk_2n": 8.96 - 3 * sd4["pairs"],
           "antipodal_abstopk_2n": 0.0, "thresholds": t}  # fmt: skip
    assert script.check(low) == []  # 3 sds below the measured means still pass
    no_split = script.check({**low, "atoms_topk_2n": 1.0 - 1 / 32, "antipodal_topk_2n": 0.0})
    assert [v.split(":")[1].strip().split()[0] for v in no_split] == ["TopK", "TopK"]


def test_c5_calibration_draws_and_resamples_a_tiny_protocol():
    module = load_calibration("sae_c5_fragmentation")
    script = load("sae_c5_fragmentation")
    cfg = dataclasses.replace(script.Config(**script.QUICK), steps=20, batch=64)
    stats = module.draws(cfg, 2, None, 0)
    assert set(stats) >= set(module.STATISTICS) and all(len(v) == 2 for v in stats.values())
    result = module.false_fail(stats, cfg, script.check, 50, np.random.default_rng(0))
    assert 0 <= result["false_fail_resampled"] <= 1 and result["seeds"] == 4
    assert set(result["per_rule_normal_fit"]) == set(module.STATISTICS)


def test_c6_fails_when_abstopk_becomes_sign_consistent_or_wins_on_positive_data():
    check = load("sae_c6_nonnegative_control").check
    ok = {
        "gap": 0.012, "sign_topk_min": 1.0, "sign_abstopk": 0.08,
        "thresholds": {"abstopk_sign_max": 0.5, "gap_min": -0.02},
    }  # fmt: skip
    assert check(ok) == []
    assert check({**ok, "sign_abstopk": 1.0})  # the spec's criterion met: the finding is gone
    assert check({**ok, "gap": -0.05})  # AbsTopK clearly better on positive data
    assert check({**ok, "sign_topk_min": 0.9})  # TopK atoms with wrong-sign codes


def test_c8_fails_on_neurons_above_their_target_dead_ones_or_a_broken_l0_identity():
    check = load("sae_c8_frequency_control").check
    ok = {"within": 1.0, "dead": 0.0, "l0_gap": 0.0, "thresholds": {"within_min": 0.95, "dead_max": 0.02}}
    assert check(ok) == []
    assert check({**ok, "within": 0.72})  # no input scaling: neurons stuck at bias -1 fire too often
    assert check({**ok, "dead": 0.03}) and check({**ok, "l0_gap": 1e-3})


def test_peps_claim_checks_fail_off_law_far_off_or_unreached_results():
    c9 = load("tomo_c9_peps_copies").check
    cell = {"lattice": "2x3", "n": 6, "M": 10000, "p_eff": [74], "ratio": 1.02, "se": 0.05,
            "mean_error2": 0.015, "raw_error2": 0.4158, "converged": 8, "trials": 8}  # fmt: skip
    ok = {"cells": [cell], "band": [0.6, 1.4], "min_shots": 10000, "raw_factor": 0.1, "budget_rate": 0.05}
    assert c9(ok) == []
    assert c9({**ok, "cells": [{**cell, "ratio": 1.6}]})  # 60% above the first-order law
    assert c9({**ok, "cells": [{**cell, "ratio": 0.5}]})
    assert c9({**ok, "cells": [{**cell, "mean_error2": 0.2}]})  # not far below the raw shadow
    assert c9({**ok, "cells": [{**cell, "converged": 7}]}) == []  # one budget spent: within 5% of runs
    assert c9({**ok, "cells": [{**cell, "converged": 5}]})
    assert c9({**ok, "cells": [{**cell, "M": 1000}]})  # nothing tested
    c10 = load("tomo_c10_snake_start").check
    rows = [{"lattice": "2x3", "trial": t, "gap": 0.0, "reached": True, "converged": True} for t in range(16)]
    ok = {"rows": rows, "rate": 0.8, "alpha": 0.01, "rel_gap": 1e-3}
    assert c10(ok) == []
    assert (
        c10({**ok, "rows": [{**r, "reached": r["trial"] < 11} for r in rows]}) == []
    )  # 11 of 16: not rejected
    (v,) = c10({**ok, "rows": [{**r, "reached": r["trial"] < 8, "gap": 30.0} for r in rows]})  # half
    assert "8 of 16" in v and "2x3 #15 (gap 30)" in v
    c19 = load("tomo_c19_no_compression").check
    measured = [0.728, 0.857, 0.898, 0.92, 0.933, 0.937, 0.955, 0.966, 0.981, 1.016]  # measured trials
    seed40 = [0.954, 0.962, 0.967, 0.971, 0.981, 0.982, 0.989, 0.994, 0.997, 0.998]  # 9 sample se off 0.933
    ratios = measured + seed40  # a quick run: 20 trials

    def run(ratios, **kw):
        return {"ratio": float(np.mean(ratios)), "ratios": ratios, "p_eff": [28], "pure_dim": 30,
                "predicted": 28 / 30, "converged": len(ratios), "trials": len(ratios), "band": [0.8, 1.05],
                "first_order_bias": 0.0125, "z": [4.5, 3.72], **kw}  # fmt: skip

    assert c19(run(ratios)) == []
    low, high = load("tomo_c19_no_compression").law_bounds(run(ratios))
    assert (round(low, 3), round(high, 3)) == (0.871, 0.998)  # the docstring's quick bounds
    assert c19(run(seed40 + seed40)) == []  # near 1, within the measured second-order shift
    (v,) = c19(run([1.0] * 20))  # no compression at all
    assert "closer to 1" in v
    (v,) = c19(run([0.81] * 20))  # about 24 / 30: a codimension-6 set instead of 2: inside the band
    assert "further below 1" in v
    assert len(c19(run([0.6] * 20))) == 2  # strong compression: band and law
    assert c19(run(ratios, p_eff=[28, 30])) and c19(run(ratios, converged=14))  # 6 of 20 at the budget
    assert c19(run(ratios, converged=19)) == []  # one at the budget: within 5% of runs


def test_c11_fails_off_law_single_shots_a_sloped_flat_region_or_no_blowup():
    check = load("tomo_c11_haar_settings").check

    def cells(r1=1.0, r2=0.95, r64=4.5, converged=8):
        base = {"lattice": "2x2", "N": 16, "converged": converged, "trials": 8}
        return [{**base, "M": M, "Q": 1000 // M, "ratio": r} for M, r in ((1, r1), (2, r2), (64, r64))]

    ok = {"cells": cells(), "band": [0.6, 1.4], "flat": 1.6, "blowup": 3.0, "budget_rate": 0.05,
          "budget_alpha": 1e-3}  # fmt: skip
    assert check(ok) == []
    assert check({**ok, "cells": cells(r1=1.8, r2=1.8, r64=8.0)})  # M = 1 off the Haar POVM's law
    assert check({**ok, "cells": cells(r2=1.9)})  # not flat at M = 2 <= N / 4
    assert check({**ok, "cells": cells(r64=1.2)})  # no blow-up at M = 64 >= 4 N
    assert check({**ok, "cells": cells(converged=7)}) == []  # one of 8 at the budget: not rejected
    assert check({**ok, "cells": cells(converged=4)})  # 4 of 8 in the flat cells
    unconverged_blowup = cells()
    unconverged_blowup[-1]["converged"] = 7
    assert check({**ok, "cells": unconverged_blowup}) == []  # counted, not failed
    assert check({**ok, "cells": cells()[1:]})  # no M = 1 cell


def test_gauss_newton_order_check_fails_linear_cubic_or_slow_convergence():
    script = load("tt_tucker_c13_gauss_newton_order")
    cfg = dataclasses.asdict(script.Config())

    def runs(errors):
        order = script.convergence_orders(errors)
        below = [k for k, e in enumerate(errors) if e < cfg["target"]]
        return {"config": cfg, "runs": [
            {"format": "tt", "m": 200, "draw": k, "errors": errors, "order": order[-1] if order else None,
             "iterations_to_target": below[0] if below else None, "cg": 30} for k in range(3)
        ]}  # fmt: skip

    quadratic = [0.5, 0.1, 1e-2, 1e-4, 1e-8, 1e-16]
    assert script.check(runs(quadratic)) == []
    linear = [0.5 * 0.01**k for k in range(9)]  # rate 0.01: fast, but order 1
    assert any("median order 1.00" in v for v in script.check(runs(linear)))
    cubic = [0.5, 0.1, 1e-3, 1e-9, 1e-27]
    assert any("median order 3.00" in v for v in script.check(runs(cubic)))
    slow = [0.5 * 0.8**k for k in range(8)] + [1e-2, 1e-4, 1e-8, 1e-16]  # quadratic only after 11 steps
    assert any("within 10 Gauss-Newton iterations" in v for v in script.check(runs(slow)))


def test_gauss_newton_order_check_tolerates_one_slow_start_but_not_a_slow_median_or_a_miss():
    script = load("tt_tucker_c13_gauss_newton_order")
    cfg = dataclasses.asdict(script.Config())
    quadratic = [0.5, 0.1, 1e-2, 1e-4, 1e-8, 1e-16]  # 1e-12 after 5 iterations
    slow = [0.5 * 0.8**k for k in range(8)] + [1e-2, 1e-4, 1e-8, 1e-16]  # after 11 (measured: up to 13)
    never = [0.5 * 0.9**k for k in range(30)]

    def results(*runs):
        out = []
        for k, errors in enumerate(runs):
            order = script.convergence_orders(errors)
            below = [i for i, e in enumerate(errors) if e < cfg["target"]]
            out.append({"format": "tt", "m": 200, "draw": k, "errors": errors,
                        "order": order[-1] if order else None,
                        "iterations_to_target": below[0] if below else None, "cg": 30})  # fmt: skip
        return {"config": cfg, "runs": out}

    assert script.check(results(*[quadratic] * 9, slow)) == []  # one slow start of 10
    (v,) = script.check(results(*[quadratic] * 4, *[slow] * 6))
    assert "the median run does not reach relative error 1e-12 within 10 Gauss-Newton iterations" in v
    violations = script.check(results(*[quadratic] * 9, never))
    assert any("draws [9] did not reach relative error 1e-12" in v for v in violations)


def test_gauss_newton_noise_check_fails_another_estimate_slow_descent_or_an_off_floor():
    script = load("tt_tucker_c14_gauss_newton_noise")
    cfg = dataclasses.asdict(script.Config())
    run = {"format": "tucker", "gamma": 1e-2, "draw": 0, "floor": 1e-3, "gn_sq_error": 1.1e-3,
           "scaled_sq_error": 1.1e-3 * (1 + 1e-10), "gn_iterations": 12, "scaled_iterations": 75,
           "iterations_to_drop": 8, "contraction": 0.1, "gn_grads": [], "scaled_grads": []}  # fmt: skip
    assert script.check({"config": cfg, "runs": [run]}) == []
    for doctored, message in (
        ({"gn_sq_error": 1.6e-3}, "differs from scaled GD's"),
        ({"iterations_to_drop": None, "contraction": None}, "the gradient did not fall"),
        ({"iterations_to_drop": 15, "contraction": 0.6}, "the gradient did not fall"),
        ({"gn_iterations": 40}, "40 Gauss-Newton iterations against 75"),
        ({"gn_sq_error": 3e-3, "scaled_sq_error": 3e-3}, "x the floor, outside [0.5, 2.0]"),
    ):
        (v,) = script.check({"config": cfg, "runs": [{**run, **doctored}]})
        assert message in v, v


def test_c12_calibration_script_runs_and_reports_both_rules(tmp_path):
    module = load_calibration("c12_order_scaling")
    assert module.main(["--draws", "2", "--resamples", "200", "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "calibration" / "c12_order_scaling.json").read_text())
    assert set(summary["modes"]) == {"quick (gap)", "full (gap)", "quick (rate)", "full (rate)"}
    assert all(0 <= m["false_fail_resampled"] <= 1 for m in summary["modes"].values())
    assert set(summary["per_order"]["gap"]) == {"3", "4", "6", "8", "10"}


def test_quick_draws_reads_runs_reruns_the_check_and_counts_a_doctored_failure(tmp_path):
    """calibration/quick_draws.py on three runs of tomo_c19 laid out as `reproduce --seeds`
    leaves them: the check's own verdict per run, the statistics of every rule, and a doctored
    run ("no compression": every ratio 1) counted as a failure and pulling the estimate up."""
    module = load_calibration("quick_draws")
    measured = [0.728, 0.857, 0.898, 0.92, 0.933, 0.937, 0.955, 0.966, 0.981, 1.016]
    near_one = [0.954, 0.962, 0.967, 0.971, 0.981, 0.982, 0.989, 0.994, 0.997, 0.998]
    ratios = [measured + near_one, near_one + measured[::-1], [1.0] * 20]
    for seed, r in zip((10, 11, 12), ratios, strict=True):
        folder = tmp_path / "draws" / f"seed-{seed}" / "tomo_c19_no_compression"
        folder.mkdir(parents=True)
        results = {"ratio": float(np.mean(r)), "ratios": r, "p_eff": [28], "pure_dim": 30,
                   "predicted": 28 / 30, "converged": 20, "trials": 20, "band": [0.8, 1.05],
                   "first_order_bias": 0.0125, "z": [4.5, 3.72]}  # fmt: skip
        (folder / "results.json").write_text(json.dumps(results))
    argv = ["--draws-dir", str(tmp_path / "draws"), "--seeds", "10-12", "--out", str(tmp_path / "out"),
            "--only", "tomo_c19_no_compression"]  # fmt: skip
    assert module.main(argv) == 0
    (summary,) = json.loads((tmp_path / "out" / "calibration" / "quick_draws.json").read_text())["checks"]
    assert summary["draws"] == 3 and summary["draws_failed"] == 1 and summary["failed_at"] == [2]
    law = summary["rules"]["mean ratio against the first-order law <= hi"]
    assert law["bound"] == pytest.approx(0.998, abs=5e-4) and law["max"] == 1.0
    assert summary["false_fail_per_run"] > 0.1  # one of three runs failed: the normal fit's tail is large
    with pytest.raises(SystemExit):
        module.main([*argv[:-1], "no_such_check"])


@pytest.mark.parametrize(
    "name", ["tt_tucker_c15_completion_gauss_newton_order", "tomo_c21_gauss_newton_order"]
)
def test_order_calibration_scripts_run_and_report_the_median_rule(name, tmp_path):
    module = load_calibration(name)
    assert module.main(["--draws", "2", "--resamples", "20", "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "calibration" / f"{name}.json").read_text())
    assert summary["draws"] == 2 and set(summary["modes"]) == {"quick", "full"}
    assert all(0 <= m["false_fail_resampled"] <= 1 for m in summary["modes"].values())
    cells = summary["cells"].values()
    assert len(cells) == (
        1 if name.startswith("tt_tucker") else 2
    )  # C21: the squared loss and the likelihood
    assert all(("bound" in c["order"]) == name.startswith("tt_tucker") for c in cells)


def order_results(script, *series, **config):
    """Results of a Gauss-Newton order check (C15, C21) with one run per error series (for
    C21 the same series for each of its methods)."""
    from tensorrec.studies.gauss_newton import order_runs

    cfg = dataclasses.replace(script.Config(), **config)
    methods = getattr(cfg, "methods", ("rgd",))
    rows = [{"draw": k, "errors": list(e), "stop_reason": "metric", "n": 3, "method": method}
            for method in methods for k, e in enumerate(series)]  # fmt: skip
    if hasattr(script, "cell_runs"):
        runs = [run for method in methods for run in script.cell_runs(cfg, rows, method)]
    else:
        runs = order_runs(rows, cfg.target)
    return {"config": dataclasses.asdict(cfg), "runs": runs}


ORDER_CHECKS = ["tt_tucker_c15_completion_gauss_newton_order", "tomo_c21_gauss_newton_order"]


@pytest.mark.parametrize("name", ORDER_CHECKS)
def test_gauss_newton_order_checks_fail_linear_cubic_or_missed_runs(name):
    script = load(name)
    quadratic = [0.2, 3e-2, 1e-3, 1e-6, 1e-12, 1e-15]
    assert script.check(order_results(script, *[quadratic] * 10)) == []
    linear = [0.2 * 0.01**k for k in range(9)]  # fast (rate 0.01) but order 1
    assert any("median order 1.00" in v for v in script.check(order_results(script, *[linear] * 10)))
    mostly_linear = order_results(script, *[quadratic] * 4, *[linear] * 6)
    assert any("median order 1.00" in v for v in script.check(mostly_linear))
    cubic = [0.1, 1e-2, 1e-5, 1e-14]
    assert any("median order 3.00" in v for v in script.check(order_results(script, *[cubic] * 10)))
    stalled = [0.2, 3e-2, 1e-3, 1e-6, 1e-6]  # quadratic, then stops short of the target
    assert script.check(order_results(script, *[quadratic] * 5, *[stalled] * 5)) == []
    violations = script.check(order_results(script, *[quadratic] * 4, *[stalled] * 6))
    assert any("6 of 10 runs (draws [4, 5, 6, 7, 8, 9]) did not reach" in v for v in violations)
    nothing = [0.2, 0.19, 0.2, 0.19]  # no decreasing triple below 0.1: no estimate
    violations = script.check(order_results(script, *[quadratic] * 4, *[nothing] * 6))
    assert any("only 4 of 10 runs have an order estimate" in v for v in violations)


def _scale_linearization(monkeypatch, key, factor):
    """A doctored Gauss-Newton model: the registered linearization of ``key`` (rows type,
    format) with its J u scaled by ``factor`` (J^* r kept; the product through them, no fused
    one)."""
    from tensorrec.operators import dispatch

    true = dispatch._LINEARIZE[key]

    def scaled(rows, x):
        lin = true(rows, x)
        return dispatch.Linearization(lambda u: factor * lin.jvp(u), lin.vjp)

    monkeypatch.setitem(dispatch._LINEARIZE, key, scaled)


def test_completion_order_check_fails_one_linear_run_the_tomography_check_does_not():
    """C15's per-run bound (every order >= 1.2) catches one linear run of 10; C21 has no
    per-run bound (its single estimates range down to 0.45 at a true order 2)."""
    quadratic, linear = [0.2, 3e-2, 1e-3, 1e-6, 1e-12, 1e-15], [0.2 * 0.01**k for k in range(9)]
    c15, c21 = load("tt_tucker_c15_completion_gauss_newton_order"), load("tomo_c21_gauss_newton_order")
    (v,) = c15.check(order_results(c15, *[quadratic] * 9, linear))
    assert "an order 1.00 below 1.2" in v
    assert c21.check(order_results(c21, *[quadratic] * 9, linear)) == []


def test_completion_order_check_fails_gauss_newton_with_a_scaled_linearization(monkeypatch):
    """A real run whose registered linearization's J u is scaled by 0.9 (a wrong Gauss-Newton
    model: Newton steps 1/0.9 too long) converges linearly and fails C15; the true one passes."""
    from tensorrec.formats import TTTensor
    from tensorrec.operators import dispatch
    from tensorrec.studies.gauss_newton import completion_order_sweep, order_runs

    script = load("tt_tucker_c15_completion_gauss_newton_order")
    cfg = dataclasses.replace(script.Config(), seeds=2)
    kwargs = {"order": cfg.order, "d": cfg.d, "r": cfg.r, "ratio": cfg.ratio}

    def results():
        rows = completion_order_sweep(cfg.seeds, 7, **kwargs)
        return {"config": dataclasses.asdict(cfg), "runs": order_runs(rows, cfg.target)}

    assert script.check(results()) == []
    _scale_linearization(monkeypatch, (dispatch.SampledEntries, TTTensor), 0.9)
    violations = script.check(results())
    assert any("median order" in v for v in violations), violations


def test_tomography_order_check_fails_gauss_newton_with_a_scaled_linearization(monkeypatch):
    """The LPDO Born-probability linearization of product-POVM outcomes with J u scaled by 0.9:
    the squared-loss and the likelihood fits converge linearly and fail C21; the true one passes."""
    from tensorrec.formats import LPDO
    from tensorrec.operators import dispatch

    script = load("tomo_c21_gauss_newton_order")
    cfg = dataclasses.replace(script.Config(), seeds=3)
    assert script.check(script.compute(cfg, 7, None)) == []
    _scale_linearization(monkeypatch, (dispatch.OutcomeRows, LPDO), 0.9)  # the pair LocalPauli data use
    violations = script.check(script.compute(cfg, 7, None))
    for label in ("MPS squared loss", "MPS likelihood"):
        assert any(v.startswith(f"{label}: median order") for v in violations), violations
