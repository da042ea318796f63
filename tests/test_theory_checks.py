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
