"""Smoke test of the benchmarks: they run end to end on tiny sizes. No timing is asserted."""

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


BENCH_ONLY = ("pymanopt", "teneva", "tntorch")
"""Anchors installed by the ``bench`` extra only: a benchmark importing one is skipped
without it (``pip install -e ".[dev]"`` runs the rest of the suite)."""


def load(name):
    path = BENCHMARKS / f"{name}.py"
    source = path.read_text()
    for module in BENCH_ONLY:
        if re.search(rf"^\s*(import|from) {module}\b", source, flags=re.MULTILINE):
            pytest.importorskip(
                module, reason=f"{name} needs {module} (the bench extra: pip install -e '.[bench]')"
            )
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def test_b6_runs_and_reports_every_tool(tmp_path):
    b6 = load("b6_manifold_core")
    argv = ["--quick", "--out", str(tmp_path), "--sizes", "30x2", "--tol-sizes", "30x2", "--repeats", "1"]
    argv += [
        "--tol-max-iterations",
        "400",
        "--factors",
        "3",
        "--factor-iterations",
        "3",
        "--drift-steps",
        "50",
    ]
    assert b6.main(argv) == 0
    out = tmp_path / "b6_manifold_core"
    results = json.loads((out / "results.json").read_text())
    (row,) = results["single_factor"]
    for tool in ("ours", "torch_floor", "geoopt_qr", "geoopt_cayley", "geoopt_qr_autograd", "pymanopt_sd"):
        assert row[f"{tool}_ms"] > 0
    # same start and step: plain RGD with a polar (ours) or QR (geoopt) retraction converge alike
    ours_iters = row["to_tolerance"]["ours"][0]
    assert (
        ours_iters is not None and abs(ours_iters - row["to_tolerance"]["geoopt_qr"][0]) <= 0.1 * ours_iters
    )
    drift = results["drift"]
    assert all(drift[k] < 1e-4 for k in ("ours_polar", "ours_qr", "ours_cayley"))
    table = (out / "table.md").read_text()
    assert "### (a)" in table and "### (b)" in table and "### (c)" in table and "Threads: torch 1" in table
    assert json.loads((out / "manifest.json").read_text())["threads"]["torch"] == 1


def test_b7_sampling_gather_runs(tmp_path):
    b7 = load("b7_sampling_gather")
    argv = [
        "--quick",
        "--out",
        str(tmp_path),
        "--order",
        "4",
        "--samples",
        "200",
        "--gradient-samples",
        "100",
    ]
    assert b7.main(argv) == 0
    results = json.loads((tmp_path / "b7_sampling_gather" / "results.json").read_text())
    (row,) = results["rows"]
    assert row["numba_s"] > 0 and row["torch_s"] > 0 and results["gradient"]["value_and_egrad_s"] > 0
    g = results["gradient"]
    assert g["gauss_newton_product_s"] > 0 and g["tangent_tt_product_s"] > 0 and g["linearization_s"] > 0


def test_b1_tucker_sensing_runs_every_tool(tmp_path):
    b1 = load("b1_tucker_sensing")
    argv = ["--quick", "--out", str(tmp_path), "--sizes", "XS", "--max-iter", "30", "--repeats", "1"]
    assert b1.main(argv) == 0
    (row,) = json.loads((tmp_path / "b1_tucker_sensing" / "results.json").read_text())["rows"]
    for tool in (*b1.OURS, "tensorly_iht", "geoopt_rsgd", "pymanopt_cg"):
        assert row[tool]["iterations"] >= 1 and row[tool]["seconds"] > 0
    assert row["operator_ms"] > 0 and row["matvec_gbs"] > 0
    assert "fastest anchor / ours" in (tmp_path / "b1_tucker_sensing" / "table.md").read_text()
    # --tools runs a subset (the table shows only those); an unknown name is refused
    subset = ["--tools", "ours_gauss_newton_f32_armijo", "tensorly_iht"]
    assert b1.main([*argv, "--out", str(tmp_path / "subset"), *subset]) == 0
    (row,) = json.loads((tmp_path / "subset" / "b1_tucker_sensing" / "results.json").read_text())["rows"]
    assert "ours_gauss_newton_f32_armijo" in row and "tensorly_iht" in row and "ours_rgd" not in row
    table = (tmp_path / "subset" / "b1_tucker_sensing" / "table.md").read_text()
    assert "ours_gauss_newton_f32_armijo" in table and "geoopt_rsgd" not in table
    with pytest.raises(ValueError, match=r"^tools: expected names from"):
        b1.compute(b1.Config(sizes=("XS",), tools=("ours_newton",)), None)


def test_b7_dense_operators_runs(tmp_path):
    b7 = load("b7_dense_operators")
    argv = ["--quick", "--out", str(tmp_path), "--sizes", "T:50x6x3", "--kron-order", "4", "--kron-m", "20"]
    assert b7.main(argv) == 0
    results = json.loads((tmp_path / "b7_dense_operators" / "results.json").read_text())
    assert len(results["dense"]) == 2 and all(r["fused_ms"] > 0 for r in results["dense"])
    assert all(r["gflops"] > 0 for r in results["kronecker"])


def test_b2_tt_completion_runs(tmp_path):
    b2 = load("b2_tt_completion")
    argv = ["--quick", "--out", str(tmp_path), "--sizes", "XS", "--max-iter", "20", "--teneva-sweeps", "2"]
    argv += ["--test-entries", "50", "--time-budget", "5"]
    assert b2.main(argv) == 0
    (row,) = json.loads((tmp_path / "b2_tt_completion" / "results.json").read_text())["rows"]
    for tool in (*b2.OURS, "teneva_als", "tntorch_adam"):
        assert row[tool]["iterations"] >= 1 and row[tool]["per_iteration_ms"] > 0
    assert [s["samples"] for s in row["scaling"]] == [37, 75, 150]


def test_b2_tt_completion_runs_a_subset_in_alternated_rounds(tmp_path):
    b2 = load("b2_tt_completion")
    argv = ["--quick", "--out", str(tmp_path), "--sizes", "XS", "--max-iter", "20", "--test-entries", "50"]
    assert b2.main([*argv, "--tools", "ours_scaled", "ours_gauss_newton", "--rounds", "3"]) == 0
    (row,) = json.loads((tmp_path / "b2_tt_completion" / "results.json").read_text())["rows"]
    for tool in ("ours_scaled", "ours_gauss_newton"):
        runs = row[tool]["seconds_all"]
        assert len(runs) == 3 and row[tool]["seconds"] == sorted(runs)[1]
    assert "ours_rgd" not in row and row["teneva_als"] == "not run" and row["plan_s"] > 0
    with pytest.raises(ValueError, match="tools"):
        b2.compute(b2.Config(sizes=("XS",), tools=("teneva",)), None)


def test_b9_bdpr_fourier_runs(tmp_path):
    b9 = load("b9_bdpr_fourier")
    argv = ["--quick", "--out", str(tmp_path), "--Ls", "32", "64", "--rgd-iterations", "3", "--repeats", "1"]
    assert b9.main(argv) == 0
    rows = json.loads((tmp_path / "b9_bdpr_fourier" / "results.json").read_text())["rows"]
    assert [r["L"] for r in rows] == [32, 64]
    assert all(r["forward_dense_s"] > 0 and r["rgd_iteration_s"] > 0 and r["bound_s"] > 0 for r in rows)


def test_b10_batched_trials_runs(tmp_path):
    b10 = load("b10_batched_trials")
    argv = [
        "--quick",
        "--out",
        str(tmp_path),
        "--batches",
        "3",
        "--d",
        "5",
        "--max-iter",
        "40",
        "--repeats",
        "1",
    ]
    assert b10.main(argv) == 0  # the script itself refuses a batched run that differs from the loop
    rows = json.loads((tmp_path / "b10_batched_trials" / "results.json").read_text())["rows"]
    assert [r["trials"] for r in rows] == [3] and rows[0]["batched_s"] > 0 and rows[0]["value_gap"] <= 1e-14


def test_b11_batched_sweeps_runs(tmp_path):
    b11 = load("b11_batched_sweeps")
    argv = ["--quick", "--out", str(tmp_path), "--draws", "2", "--iterations", "30"]
    assert b11.main(argv) == 0  # the script itself refuses batched runs that succeed on other draws
    rows = json.loads((tmp_path / "b11_batched_sweeps" / "results.json").read_text())["rows"]
    assert [r["format"] for r in rows] == ["tucker", "tt"] and all(r["batched_s"] > 0 for r in rows)


def test_b12_tomography_runs_ours_and_the_installed_anchors(tmp_path):
    b12 = load("b12_tomography")
    argv = ["--quick", "--out", str(tmp_path), "--scale-qubits", "4", "--copies", "300", "--iterations", "3"]
    assert b12.main(argv) == 0
    rows = json.loads((tmp_path / "b12_tomography" / "results.json").read_text())["rows"]
    methods = {r["method"] for r in rows if r["part"] == "anchors"}
    ours = {
        "ours PCS dense (PSD)",
        "ours LR-PCS dense (rank 1)",
        "ours PCS MPO (bond 4)",
        "ours MLE MPS (bond 2)",
    }
    assert ours <= methods
    assert all(0 < r["fidelity"] < 1.1 and r["seconds"] > 0 for r in rows if r["part"] != "lattice")
    assert {r["solver"] for r in rows if r["part"] == "scale"} == {"gradient", "gauss_newton"}
    lattice = [r for r in rows if r["part"] == "lattice"]
    assert [r["estimate"] for r in lattice] == ["PEPS", "LPDO kappa=2"]
    assert all(r["error"] < r["start_error"] and 0 < r["bound_s"] < r["data_s"] for r in lattice)


def test_b14_sweeps_runs_and_reports_every_workload(tmp_path):
    b14 = load("b14_sweeps")
    argv = ["--quick", "--out", str(tmp_path), "--backends", "serial", "--trivial", "20", "--busy", "2",
            "--busy-seconds", "0.05", "--iterations", "30"]  # fmt: skip
    assert b14.main(argv) == 0
    rows = json.loads((tmp_path / "b14_sweeps" / "results.json").read_text())["rows"]
    assert [r["workload"] for r in rows] == ["empty", "busy", "e6 batched", "e6 unbatched"]
    assert [r["trials"] for r in rows] == [20, 2, 8, 8] and all(r["speedup"] == 1.0 for r in rows)
    assert rows[1]["trial_seconds"] >= 0.1  # the busy trials' own time is read back from the store


def test_b3_peps_contraction_runs_against_quimb(tmp_path):
    pytest.importorskip("quimb", reason="B3 compares against quimb (the bench extra)")
    b3 = load("b3_peps_contraction")
    assert b3.main(["--quick", "--out", str(tmp_path), "--sizes", "3", "--repeats", "1"]) == 0
    rows = json.loads((tmp_path / "b3_peps_contraction" / "results.json").read_text())["rows"]
    tools = {r["tool"] for r in rows}
    assert {"ours exact", "quimb exact (cotengra)", "ours boundary", "quimb boundary"} <= tools
    exact = [r for r in rows if r["tool"] == "quimb exact (cotengra)"]
    assert exact[0]["error"] < 1e-12  # quimb and we contract the same network
    accuracy = json.loads((tmp_path / "b3_peps_contraction" / "results.json").read_text())["accuracy"]
    assert [(r["L"], r["D"], r["chi"], r["networks"]) for r in accuracy] == [(3, 2, 4, 2)]
    # three rows: ours meets at the middle row untruncated (exact); quimb truncates, but is close
    assert accuracy[0]["ours_error"] < 1e-12 and accuracy[0]["quimb_error"] < 0.2


def test_b15_peps_gradients_compares_equal_gradients(tmp_path):
    b15 = load("b15_peps_gradients")
    assert b15.main(["--quick", "--out", str(tmp_path), "--rows", "50"]) == 0
    rows = json.loads((tmp_path / "b15_peps_gradients" / "results.json").read_text())["rows"]
    assert len(rows) == 3 and all(r["gap"] < 1e-12 and r["ours_s"] > 0 for r in rows)


def test_b16_lpdo_data_term_times_both_paths(tmp_path):
    b16 = load("b16_lpdo_data_term")
    assert b16.main(["--quick", "--out", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "b16_lpdo_data_term" / "results.json").read_text())["rows"]
    assert {(r["path"], r["part"]) for r in rows} == {
        (path, part) for path in ("outcome", "kronecker") for part in b16.PARTS
    }
    assert all(r["seconds"] > 0 for r in rows)
