"""Edges: script runner (flags, outputs, manifest, resumable trials), discovery and the CLI."""

import dataclasses
import json
import textwrap

import pytest
from click.testing import CliRunner

import tensorrec
from tensorrec.cli import cli
from tensorrec.runner import (
    discover,
    find_root,
    get_script,
    repeat_timings,
    script_main,
    write_json,
    write_table,
)
from tensorrec.sweep import Runner, code_version


def test_every_script_runs_quick_and_passes(tmp_path):
    """The README's main job in quick mode: every experiment and check, and the index page."""
    result = CliRunner().invoke(cli, ["reproduce", "--quick", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    index = (tmp_path / "index.md").read_text()
    for script in discover():
        assert f"## {script.name}" in index
        manifest = json.loads((tmp_path / script.name / "manifest.json").read_text())
        assert manifest["quick"] and manifest["threads"]["torch"] == 1 and manifest["violations"] == []
        for fig in manifest["figures"]:
            assert (tmp_path / script.name / fig).stat().st_size > 0
    assert "![core_rayleigh_convergence](core_rayleigh_convergence/rayleigh_convergence.png)" in index
    assert "| check | PASS |" in index


def test_experiments_list_shows_both_kinds():
    result = CliRunner().invoke(cli, ["experiments", "list"])
    assert result.exit_code == 0
    assert "core_rayleigh_convergence" in result.output and "experiment" in result.output
    assert "core_rayleigh_rate" in result.output and "check" in result.output


def test_run_passes_config_flags_and_seed(tmp_path):
    result = CliRunner().invoke(
        cli,
        ["experiments", "run", "core_rayleigh_rate", "--quick", "--out", str(tmp_path), "--seed", "3"]
        + ["--trials", "1", "--steps", "0.25"],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "core_rayleigh_rate" / "manifest.json").read_text())
    assert (
        manifest["seed"] == 3 and manifest["config"]["trials"] == 1 and manifest["config"]["steps"] == [0.25]
    )
    assert manifest["config"]["n"] == 30  # from QUICK
    for key in ("versions", "git_revision", "wall_seconds", "device"):
        assert key in manifest
    index = (tmp_path / "index.md").read_text()  # experiments run writes the index too
    assert "| [core_rayleigh_rate](#core_rayleigh_rate) | check | PASS |" in index


def test_an_unknown_name_on_the_command_line_is_a_one_line_error_with_suggestions():
    result = CliRunner().invoke(cli, ["experiments", "run", "tt_tucker_c9_retraktion"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    (line,) = [x for x in result.output.splitlines() if x.startswith("Error")]
    assert (
        "unknown experiment or check 'tt_tucker_c9_retraktion'; did you mean tt_tucker_c9_retraction" in line
    )


def test_reproduce_runs_selected_scripts_at_several_seeds_in_parallel(tmp_path):
    argv = [
        "reproduce",
        "--quick",
        "--out",
        str(tmp_path),
        "--only",
        "core_*",
        "--seeds",
        "0-1",
        "--jobs",
        "2",
    ]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 0, result.output
    table = (tmp_path / "seeds.md").read_text()
    assert (
        "| core_rayleigh_rate | pass | pass |" in table
        and "| core_rayleigh_convergence | pass | pass |" in table
    )
    for seed in (0, 1):
        manifest = json.loads(
            (tmp_path / f"seed-{seed}" / "core_rayleigh_rate" / "manifest.json").read_text()
        )
        assert manifest["seed"] == seed
    bad = CliRunner().invoke(cli, ["reproduce", "--only", "nothing*"])
    assert bad.exit_code == 2 and "no script matches 'nothing*'" in bad.output
    assert CliRunner().invoke(cli, ["reproduce", "--seeds", "3-x"]).exit_code == 2


def test_unknown_script_name_lists_known_ones():
    with pytest.raises(KeyError, match="unknown experiment or check 'nope'; known: .*core_rayleigh_rate"):
        get_script("nope")


def _write_project(root, check_body):
    (root / "experiments").mkdir()
    (root / "theory_checks").mkdir()
    (root / "theory_checks" / "_helper.py").write_text("raise RuntimeError('helpers are not scripts')\n")
    (root / "theory_checks" / "toy_claim.py").write_text(
        textwrap.dedent(
            f'''
            """Toy claim used by the CLI tests."""
            import dataclasses
            from tensorrec.runner import script_main

            @dataclasses.dataclass(frozen=True)
            class Config:
                value: float = 1.0

            def compute(cfg, rng):
                return {{"value": cfg.value}}

            def check(results):
            {textwrap.indent(check_body, "    ")}

            def main(argv=None):
                return script_main("toy_claim", Config, compute, check=check, argv=argv)
            '''
        )
    )


def test_reproduce_fails_when_a_claim_fails(tmp_path):
    _write_project(tmp_path, 'return ["value is wrong"]')
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["reproduce", "--quick", "--root", str(tmp_path), "--out", str(out)])
    assert result.exit_code == 1
    index = (out / "index.md").read_text()
    assert "**FAIL**" in index and "- violated: value is wrong" in index


def test_reproduce_reports_a_crashing_script(tmp_path):
    _write_project(tmp_path, 'raise ZeroDivisionError("boom")')
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["reproduce", "--root", str(tmp_path), "--out", str(out)])
    assert result.exit_code == 1
    assert (
        "**ERROR**" in (out / "index.md").read_text()
        and "ZeroDivisionError" in (out / "index.md").read_text()
    )


def test_find_root_by_env_and_error(tmp_path, monkeypatch):
    _write_project(tmp_path, "return []")
    monkeypatch.setenv("TENSORREC_ROOT", str(tmp_path))
    assert find_root() == tmp_path.resolve()
    assert [s.name for s in discover()] == ["toy_claim"]
    monkeypatch.setenv("TENSORREC_ROOT", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="root: expected a folder holding experiments/"):
        find_root()


@dataclasses.dataclass(frozen=True)
class _Cfg:
    n: int = 3
    flag: bool = False


def test_script_main_rejects_device_for_cpu_only_scripts_and_bad_quick(tmp_path):
    with pytest.raises(ValueError, match="device: this script runs on the CPU only"):
        script_main("x", _Cfg, lambda c, r: {}, argv=["--out", str(tmp_path), "--device", "cuda"])
    with pytest.raises(ValueError, match=r"QUICK: unknown Config fields \['m'\]"):
        script_main("x", _Cfg, lambda c, r: {}, quick={"m": 1}, argv=["--out", str(tmp_path), "--quick"])
    assert (
        script_main("x", _Cfg, lambda c, r: {"n": c.n, "f": c.flag}, argv=["--out", str(tmp_path), "--flag"])
        == 0
    )
    assert json.loads((tmp_path / "x" / "results.json").read_text()) == {"n": 3, "f": True}


def test_write_json_uses_a_unique_temporary_file(tmp_path):
    target = tmp_path / "results.json"
    (tmp_path / "results.json.tmp").write_text("a reader's or another writer's file")
    write_json(target, {"a": 1})
    assert json.loads(target.read_text()) == {"a": 1}
    assert (tmp_path / "results.json.tmp").read_text() == "a reader's or another writer's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json", "results.json.tmp"]


def test_benchmark_helpers(tmp_path, capsys):
    calls = []
    times = repeat_timings(lambda: calls.append(1), 4)
    assert len(times) == 4 and len(calls) == 4 and all(t >= 0 for t in times)
    (path,) = write_table("| a |\n|---|\n", tmp_path)
    assert path.read_text() == "| a |\n|---|\n" and "| a |" in capsys.readouterr().out


def test_a_resumed_run_reports_the_trials_it_read_back_and_their_time(tmp_path):
    path = tmp_path / "trials.sqlite"
    log = Runner(path, backend="serial")
    first = log.compute_many(["a", "b"], lambda todo: [{"k": k} for k in todo], batch_size=2)
    assert first == [{"k": 0}, {"k": 1}] and (log.resumed_trials, log.resumed_seconds) == (0, 0.0)
    again = Runner(path, backend="serial")
    third = again.compute_many(["a", "b", "c"], lambda todo: [{"k": k} for k in todo], batch_size=2)
    assert third[2] == {"k": 2} and again.resumed_trials == 2 and again.resumed_seconds >= 0.0
    assert all(row.seconds >= 0.0 for row in again.store.rows())  # each trial's own time is stored
    with pytest.raises(KeyError, match="already recorded"):
        again.store.put([("a", "", "", {}, 0, "ok", "{}", None, 0.0)])
    assert code_version().startswith(tensorrec.__version__ + "+")


def test_the_index_counts_an_experiments_resumed_trials(tmp_path):
    argv = ["experiments", "run", "tt_tucker_retraction_ablation", "--quick", "--out", str(tmp_path)]
    assert CliRunner().invoke(cli, [*argv, "--iterations", "20"]).exit_code == 0
    assert CliRunner().invoke(cli, [*argv, "--iterations", "20"]).exit_code == 0  # every trial resumed
    manifest = json.loads((tmp_path / "tt_tucker_retraction_ablation" / "manifest.json").read_text())
    assert manifest["resumed_trials"] > 0 and manifest["resumed_trial_seconds"] > 0
    assert "resumed trials)" in (tmp_path / "index.md").read_text()


def test_experiments_run_takes_the_sweep_backend_and_refuses_a_device_its_trials_cannot_use(tmp_path):
    argv = ["experiments", "run", "tt_tucker_retraction_ablation", "--quick", "--out", str(tmp_path)]
    result = CliRunner().invoke(
        cli, [*argv, "--backend", "processes", "--workers", "2", "--iterations", "20"]
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "tt_tucker_retraction_ablation" / "manifest.json").read_text())
    assert (manifest["backend"], manifest["workers"]) == ("processes", 2)
    assert (tmp_path / "_trials" / "tt_tucker_sensing.sqlite").exists()
    argv = ["experiments", "run", "bdpr_noise", "--quick", "--out", str(tmp_path), "--device", "cuda"]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code != 0 and "runs on the CPU only" in str(result.exception)


@pytest.mark.parametrize(
    "flags, named",
    [
        (["--draws", "0"], "--draws: expected an integer > 0, got '0'"),
        (["--draws", "-5"], "--draws: expected an integer > 0, got '-5'"),
        (["--grid-step", "0"], "--grid-step: expected a finite number > 0, got '0'"),
        (["--grid-step", "nan"], "--grid-step: expected a finite number > 0, got 'nan'"),
        (["--threads", "0"], "--threads: expected an integer > 0, got '0'"),
        (["--device", "banana"], "--device: expected a torch device"),
    ],
)
def test_config_flags_refuse_values_outside_their_domain_naming_the_flag(tmp_path, flags, named):
    """Issue 27 item 4: ``--draws 0`` used to run the claim on zero draws and pass, ``--grid-step
    0`` was a ZeroDivisionError, ``--threads 0`` named ``n``."""
    argv = ["experiments", "run", "sae_c1_prox_identities", "--quick", "--out", str(tmp_path), *flags]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 2 and named in result.output
    assert not (tmp_path / "sae_c1_prox_identities" / "manifest.json").exists()


@pytest.mark.parametrize(
    "name, flags, ok",
    [
        ("sae_c13_consistency", ["--l1", "0"], True),  # the unregularised baseline
        ("sae_c13_consistency", ["--l1", "-0.1"], False),
        ("sae_c13_consistency", ["--lr", "0"], False),  # a step: declared positive
        ("bdpr_noise", ["--gammas", "0", "0.1"], True),  # no noise
        ("bdpr_noise", ["--step", "0"], False),
        ("sae_c1_prox_identities", ["--grid-step", "0"], False),
        ("sae_c1_prox_identities", ["--draws", "0"], False),
    ],
)
def test_zero_is_refused_only_where_a_field_declares_it_or_counts(name, flags, ok):
    """Review of issue 27 item 4: a positive default used to make 0 illegal for every numeric
    flag, so ``--l1 0`` and ``--gammas 0`` were refused though valid."""
    from tensorrec.runner import build_parser, get_script

    module = get_script(name).load()
    parser = build_parser(name, module.Config, module.__doc__)
    if ok:
        parser.parse_args(flags)
    else:
        with pytest.raises(SystemExit):
            parser.parse_args(flags)


def test_a_config_field_default_declares_the_sign_of_its_flag():
    from tensorrec.runner import build_parser, positive

    @dataclasses.dataclass(frozen=True)
    class Config:
        count: int = 3
        offset: int = 0
        gap: float = -0.02
        sizes: tuple[int, ...] = (2, 4)
        weight: float = 0.5
        spacing: float = positive(0.1)
        at_least_one: float = dataclasses.field(default=2.0, metadata={"min": 1})

    parser = build_parser("demo", Config, None)
    args = parser.parse_args(["--offset", "0", "--gap", "-1", "--sizes", "1", "2", "--weight", "0"])
    assert (args.offset, args.gap, args.sizes, args.weight) == (0, -1.0, [1, 2], 0.0)
    assert parser.parse_args(["--at-least-one", "1"]).at_least_one == 1.0
    for bad in (["--count", "0"], ["--offset", "-1"], ["--sizes", "3", "0"], ["--gap", "inf"],
                ["--weight", "-1"], ["--spacing", "0"], ["--at-least-one", "0.5"]):  # fmt: skip
        with pytest.raises(SystemExit):
            parser.parse_args(bad)
