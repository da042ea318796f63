import os

import pytest
import torch
from hypothesis import HealthCheck, settings

import tensorrec

tensorrec.pin_threads(1)

settings.register_profile("ci", max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


SLOW = {
    "tests/test_benchmarks.py::test_b12_tomography_runs_ours_and_the_installed_anchors",
    "tests/test_benchmarks.py::test_b3_peps_contraction_runs_against_quimb",
    "tests/test_docs.py::test_code_blocks_run[README.md]",
    "tests/test_docs.py::test_code_blocks_run[concepts.rst]",
    "tests/test_docs.py::test_code_blocks_run[sae.rst]",
    "tests/test_docs.py::test_code_blocks_run[sweeps.rst]",
    "tests/test_docs.py::test_code_blocks_run[tomography.rst]",
    "tests/test_docs.py::test_the_sweep_example_needs_its_guard",
    "tests/test_fuzz_sweep.py::test_fuzz[hang-processes-times-out]",
    "tests/test_fuzz_sweep.py::test_fuzz[script-without-main-guard]",
    "tests/test_fuzz_sweep.py::test_fuzz[sigkill-driver-ends-workers-and-forkserver]",
    "tests/test_landscape.py::test_a_mixed_census_finds_what_newton_misses_and_estimates_what_is_left",
    "tests/test_landscape.py::test_basin_statistics_count_global_and_spurious_minima_and_resume",
    "tests/test_optim.py::test_fista_needs_fewer_iterations_than_ista",
    "tests/test_peps.py::test_a_mixed_state_is_fit_by_the_lpdo_estimator",
    "tests/test_peps.py::test_planner_caches_paths_and_reports_search_time",
    "tests/test_quantum_qiskit.py::test_sampler_counts_estimate_six_qubits",
    "tests/test_recovery.py::test_scaled_method_is_not_slowed_by_conditioning[tt-ranks1]",
    "tests/test_recovery.py::test_scaled_method_is_not_slowed_by_conditioning[tucker-ranks0]",
    "tests/test_runner_cli.py::test_every_script_runs_quick_and_passes",
    "tests/test_runner_cli.py::test_reproduce_runs_selected_scripts_at_several_seeds_in_parallel",
    "tests/test_runner_cli.py::test_the_index_counts_an_experiments_resumed_trials",
    "tests/test_second_order.py::test_gauss_newton_tomography_fits_reach_the_first_order_optimum",
    "tests/test_sweep.py::test_a_killed_worker_costs_only_its_task[dask]",
    "tests/test_sweep.py::test_a_parallel_sweep_s_dataframe_is_in_grid_order",
    "tests/test_sweep.py::test_every_backend_gives_the_records_of_the_serial_run[dask]",
    "tests/test_sweep.py::test_hung_trials_on_processes_are_stopped_or_their_worker_killed_and_the_sweep_goes_on",
    "tests/test_sweep.py::test_sigkill_of_a_processes_driver_ends_its_workers_and_forkserver",
    "tests/test_sweep.py::test_sigkill_of_the_driver_then_resume_loses_and_repeats_nothing[dask]",
    "tests/test_sweep.py::test_sigkill_of_the_driver_then_resume_loses_and_repeats_nothing[processes]",
    "tests/test_sweep.py::test_sigkill_of_the_driver_then_resume_loses_and_repeats_nothing[serial]",
    "tests/test_sweep.py::test_two_drivers_on_one_store_never_compute_a_trial_twice",
    "tests/test_theory_checks.py::test_c12_calibration_script_runs_and_reports_both_rules",
    "tests/test_theory_checks.py::test_c14_calibration_script_runs_and_its_runs_match_the_check",
    "tests/test_theory_checks.py::test_c7_calibration_script_runs_and_reports_quick_and_full_rules",
    "tests/test_theory_checks.py::test_completion_order_check_fails_gauss_newton_with_a_scaled_linearization",
    "tests/test_theory_checks.py::test_order_calibration_scripts_run_and_report_the_median_rule[tt_tucker_c15_completion_gauss_newton_order]",
    "tests/test_trial_log.py::test_sigkill_mid_sweep_then_resume_loses_nothing_and_repeats_only_what_was_in_flight[1]",
    "tests/test_trial_log.py::test_sigkill_mid_sweep_then_resume_loses_nothing_and_repeats_only_what_was_in_flight[4]",
    "tests/test_trial_log.py::test_two_processes_on_one_log_compute_every_trial_once[1]",
    "tests/test_trial_log.py::test_two_processes_on_one_log_compute_every_trial_once[4]",
}
"""Tests of 2.4 s or more (``pytest -n 2 --durations=60``, 2026-12-07, the 2-core machine):
marked ``slow``, so ``make test`` (``-m "not slow"``) leaves them to ``make test-slow``, which
CI runs as well. Mostly worker processes started, killed and resumed, the quick run of every
script, and calibration scripts run end to end."""


def pytest_collection_modifyitems(config, items):
    slow = pytest.mark.slow
    for item in items:
        if item.nodeid in SLOW:
            item.add_marker(slow)
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
