"""The ecosystem matrix: configuration, cells, Dask scheduling, the document and its page."""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("distributed")

from adamproofs.cli import main
from adamproofs.conformance.ecosystem import child
from adamproofs.conformance.ecosystem import config as cfg
from adamproofs.conformance.ecosystem.cells import Cell, expand
from adamproofs.conformance.ecosystem.cli import jobs_for
from adamproofs.conformance.ecosystem.envs import Interpreter, current_interpreter
from adamproofs.conformance.ecosystem.processes import (
    CellCrashed,
    CellProcess,
    CellTimedOut,
    run_in_process,
)
from adamproofs.conformance.ecosystem.render import (
    JSON_NAME,
    MD_NAME,
    SCHEMA,
    build_document,
    grouped_findings,
    md_text,
    merge_documents,
    to_markdown,
    without_timing,
)
from adamproofs.conformance.ecosystem.schedule import (
    Job,
    execute,
    local_client,
    run_cell,
)
from adamproofs.errors import ConfigError

BASE: dict[str, Any] = {
    "run": {"profile": "quick", "seeds": [0], "dtypes": ["float32"]},
    "libraries": {
        "numpy": {"pip": [], "modules": ["numpy"]},
        "torch": {"pip": ["torch==2.13.0"], "modules": ["torch"]},
    },
    "implementations": [
        {"id": "numpy", "library": "numpy", "target": "numpy", "variant": "paper"},
        {"id": "torch-adam", "library": "torch", "target": "torch"},
    ],
}


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    node: Any = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return data


# --- the configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({**BASE, "extra": 1}, ["'extra'", "allowed: run, libraries, implementations"]),
        (_with(("run", "profile"), "fast"), ["run.profile", "'fast'", "quick, default"]),
        (_with(("run", "dtypes"), ["float33"]), ["run.dtypes", "'float33'", "float16"]),
        (_with(("run", "seeds"), [-1]), ["run.seeds", "ints >= 0"]),
        (_with(("run", "properties"), ["nope"]), ["run.properties", "'nope'", "agreement"]),
        (_with(("libraries", "torch", "pip"), ["torch>>2"]), ["libraries.torch.pip", "torch>>2"]),
        (_with(("libraries", "torch", "wheels"), []), ["libraries.torch.wheels", "pip, modules"]),
        (_with(("implementations", 1, "library"), "jax"), ["library", "'jax'", "numpy, torch"]),
        (_with(("implementations", 1, "colour"), "red"), ["(torch-adam).colour", "target, kind"]),
        (_with(("implementations", 1, "target"), "torch.optim"), ["target", "module.path:attr"]),
        (_with(("implementations", 1, "kind"), "torch"), ["kind", "module.path:attr targets"]),
        (_with(("implementations", 1, "variant"), "adamw"), ["variant", "'adamw'", "paper"]),
        (_with(("implementations", 1, "id"), "numpy"), ["'numpy'", "used twice"]),
        (_with(("implementations", 1, "id"), "Torch Adam"), ["id", "lower-case"]),
    ],
)
def test_bad_configuration_names_the_key_and_what_is_allowed(
    data: dict[str, Any], words: list[str]
) -> None:
    before = copy.deepcopy(data)
    with pytest.raises(ConfigError) as err:
        cfg.parse_config(data)
    for word in words:
        assert word in str(err.value)
    assert data == before  # not mutated


def test_kind_must_be_an_adapter_kind() -> None:
    data = _with(("implementations", 1), {"id": "x", "library": "torch", "target": "a:B"})
    data["implementations"][1]["kind"] = "sklearn"
    with pytest.raises(ConfigError, match=r"kind = 'sklearn' is not one of torch, optax"):
        cfg.parse_config(data)


def test_unreadable_and_invalid_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        cfg.load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[run\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        cfg.load_config(bad)


def test_shipped_configuration_is_valid_and_wide() -> None:
    config = cfg.load_config()
    assert len(config.entries) >= 12
    assert len({e.library for e in config.entries}) >= 6
    # torch is pinned to one release everywhere; beside torchvision, to the release whose
    # registry torchvision loads (see the file's header)
    for lib in config.libraries.values():
        pins = [p for p in lib.pip if p.startswith("torch=")]
        paired = any(p.startswith("torchvision") for p in lib.pip)
        expected = "torch==2.14.1" if paired else "torch==2.13.0"
        assert all(p == expected for p in pins), (lib.name, pins)
        if paired:
            assert "torchvision==0.29.1" in lib.pip
    # entries that need an adapter this build may lack are declared as such
    assert {e.adapter_needed for e in config.entries} >= {"mlx", "tinygrad", "functional"}


# --- cells ----------------------------------------------------------------------------------------


def test_cells_are_one_fingerprint_per_dtype_and_a_property_per_seed() -> None:
    data = copy.deepcopy(BASE)
    data["run"].update(dtypes=["float32", "float64"], seeds=[0, 3], properties=["agreement"])
    data["implementations"][1]["dtypes"] = ["float64"]
    config = cfg.parse_config(data)
    cells = expand(config)
    fingerprints = [c for c in cells if c.prop is None]
    properties = [c for c in cells if c.prop is not None]
    assert {(c.entry, c.dtype) for c in fingerprints} == {
        ("numpy", "float32"),
        ("numpy", "float64"),
        ("torch-adam", "float64"),
    }
    assert len(fingerprints) == 3
    assert len(properties) == 3 * 1 * 2
    assert all(c.fingerprint in fingerprints for c in properties)
    assert {c.seed for c in properties} == {0, 3}
    assert len({c.key for c in cells}) == len(cells)
    assert cells.index(properties[0]) > max(cells.index(f) for f in fingerprints)


# --- the run on Dask ------------------------------------------------------------------------------


def _matrix(tmp_path: Path, workers: int) -> tuple[dict[str, Any], str]:
    toml = tmp_path / "tiny.toml"
    toml.write_text(
        "[run]\nprofile = 'quick'\nseeds = [0]\ndtypes = ['float32', 'float16']\n"
        "properties = ['first_step', 'step_bound']\n"
        "[libraries.numpy]\npip = []\nmodules = ['numpy']\n"
        "[libraries.torch]\npip = ['torch==2.13.0']\nmodules = ['torch']\n"
        "[libraries.absent]\npip = ['absent>=1']\nmodules = ['adamproofs_absent_module']\n"
        "[[implementations]]\nid = 'numpy'\nlibrary = 'numpy'\ntarget = 'numpy'\n"
        "variant = 'paper'\n"
        "[[implementations]]\nid = 'torch-adam'\nlibrary = 'torch'\ntarget = 'torch'\n"
        "[[implementations]]\nid = 'torch-claims-hat'\nlibrary = 'torch'\ntarget = 'torch'\n"
        "variant = 'eps_hat'\ndtypes = ['float32']\n"
        "[[implementations]]\nid = 'absent-adam'\nlibrary = 'absent'\ntarget = 'mlx'\n"
    )
    out = tmp_path / f"out{workers}"
    argv = ["matrix", "--config", str(toml), "--current-env", "--workers", str(workers)]
    assert main([*argv, "--out", str(out)]) == 0
    doc = json.loads((out / JSON_NAME).read_text())
    return doc, (out / MD_NAME).read_text()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[dict[str, Any], str]]:
    pytest.importorskip("torch")
    tmp = tmp_path_factory.mktemp("matrix")
    return {n: _matrix(tmp, n) for n in (1, 2)}


def test_one_and_two_workers_give_the_same_document(runs: dict[int, Any]) -> None:
    (one, _), (two, _) = runs[1], runs[2]
    assert one["run"]["workers"] == 1 and two["run"]["workers"] == 2
    assert without_timing(one) == without_timing(two)
    assert json.dumps(without_timing(one), sort_keys=True) == json.dumps(
        without_timing(two), sort_keys=True
    )


def test_document_records_each_cell_and_verdict(runs: dict[int, Any]) -> None:
    doc, _ = runs[2]
    assert doc["schema"] == SCHEMA and isinstance(doc["schema_version"], int)
    assert list(doc["cells"]) == sorted(doc["cells"])
    impls = {i["id"]: i for i in doc["implementations"]}
    assert impls["numpy"]["verdict"] == "conforms"
    assert impls["numpy"]["dtypes"]["float32"]["detected"] == "paper"
    # torch's Adam is the paper's form: a claim of ε̂ is a finding of its float32 fingerprint
    claimed = impls["torch-claims-hat"]
    assert claimed["verdict"] == "does not conform"
    assert claimed["findings"] and claimed["findings"][0].startswith("float32 · variant: ")
    assert "eps_placement" in claimed["findings"][0]
    assert impls["absent-adam"]["status"] == "not installed"
    assert impls["absent-adam"]["verdict"] is None
    assert doc["libraries"]["absent"]["status"] == "not installed"
    assert "adamproofs_absent_module" in doc["libraries"]["absent"]["error"]
    assert doc["libraries"]["torch"]["versions"]["torch"]


def test_an_entry_whose_adapter_is_missing_is_reported_not_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    job = _numpy_job(tmp_path, current_interpreter())
    request = {**job.request, "adapter": "tinygrad"}
    monkeypatch.setattr(child, "adapter_available", lambda name: False)
    result = child.run_request(request)
    assert result["status"] == "no adapter"
    assert "'tinygrad' adapter" in result["error"]


def test_markdown_page_shows_every_implementation_and_finding(runs: dict[int, Any]) -> None:
    doc, page = runs[2]
    assert page == to_markdown(doc)
    rows = [line for line in page.splitlines() if line.startswith("| ")]
    for impl in doc["implementations"]:
        row = next(r for r in rows if r.startswith(f"| {impl['id']} |"))
        assert f"**{impl['verdict'] or impl['status']}**" in row
        for finding in impl["findings"]:  # in a line that names its dtype and property
            where, _, message = finding.partition(": ")
            dtype, _, prop = where.partition(" · ")
            assert any(
                line.startswith("- ")
                and md_text(message) in line
                and dtype in line
                and prop in line
                for line in page.splitlines()
            ), finding
    assert doc["date"][:10] in page
    assert f"`{doc['command']}`" in page
    assert f"torch {doc['libraries']['torch']['versions']['torch']}" in page


def test_markdown_keeps_each_finding_on_one_line() -> None:
    config = cfg.parse_config(BASE)
    cells = expand(config, config.entries[:1])
    results: dict[str, dict[str, Any]] = {
        c.key: {"status": "checked", "verdict": "pass", "versions": {"numpy": "2"}} for c in cells
    }
    fp = Cell("numpy", "float32")
    results[fp.key].update(detected="paper", axes={}, judged_by={}, implementation="numpy")
    bad = next(c for c in cells if c.prop == "agreement")
    results[bad.key] = {"status": "checked", "verdict": "fail", "message": "θ[0] |x|\nwrong"}
    doc = build_document(config, config.entries[:1], results, cells, command="c", run={})
    page = to_markdown(doc)
    assert doc["implementations"][0]["findings"] == ["float32 · agreement: θ[0] |x|\nwrong"]
    assert "- float32 · agreement: θ&#91;0&#93; \\|x\\| wrong" in page.splitlines()
    assert "✗ agreement" in page


def test_findings_with_one_message_share_a_line_that_names_every_place() -> None:
    findings = [
        "float32 · variant: decay: no known variant",
        "float32 · agreement: grad mutated",
        "float64 · agreement: grad mutated",
        "float32 · step_bound: grad mutated",
        "float64 · step_bound: grad mutated",
        "float16 · step_bound: grad mutated",
        "float16 · agreement (seed 3): |Δ| too big",
        "error: cannot load",
    ]
    assert grouped_findings(findings) == [
        "float32 · variant: decay: no known variant",
        "float32, float64 · agreement; float32, float64, float16 · step_bound: grad mutated",
        "float16 · agreement (seed 3): |Δ| too big",
        "error: cannot load",
    ]
    assert grouped_findings([]) == []


# --- retries --------------------------------------------------------------------------------------


def _numpy_job(tmp_path: Path, interpreter: Interpreter) -> Job:
    config = cfg.parse_config(BASE)
    entry = config.entries[0]
    (job,) = jobs_for(
        config,
        [entry],
        [Cell(entry.id, "float32")],
        current_env=True,
        envs_dir=tmp_path,
        timeout=300,
    )
    return Job(job.cell, job.request, None, interpreter, job.env_root, job.timeout)


def kill_worker_once(job: Job, marker: str) -> dict[str, Any]:
    """A runner that kills the Dask worker running it the first time, then runs the job."""
    path = Path(marker)
    attempts = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(attempts))
    if attempts == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return {**run_cell(job), "attempts": attempts}


def test_a_cell_whose_worker_died_is_run_again(tmp_path: Path) -> None:
    job = _numpy_job(tmp_path, current_interpreter())
    marker = tmp_path / "attempts"
    client = local_client(1, retries=2)
    try:
        runner = functools.partial(kill_worker_once, marker=str(marker))
        results = execute(client, [job], retries=2, runner=runner)
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()
    result = results[job.cell.key]
    assert result["attempts"] == 2
    assert result["status"] == "checked" and result["verdict"] == "pass"


def test_a_cell_whose_process_died_is_retried(tmp_path: Path) -> None:
    """The cell's subprocess kills itself on its first run: Dask's retries run it again."""
    marker = tmp_path / "died"
    wrapper = tmp_path / "python"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'if [ ! -e "{marker}" ]; then touch "{marker}"; kill -9 $$; fi\n'
        f'exec "{sys.executable}" "$@"\n'
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    base = current_interpreter()
    job = _numpy_job(tmp_path, Interpreter(str(wrapper), base.pythonpath))
    job = dataclasses.replace(job, cells_per_process=1)  # each run starts the wrapper
    client = local_client(1, retries=1)
    try:
        once = execute(client, [job], retries=1)
        marker.unlink()
        never = execute(client, [job], retries=0)
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()
    assert once[job.cell.key]["status"] == "checked"
    assert never[job.cell.key]["status"] == "error"
    assert "died of signal 9" in never[job.cell.key]["error"]


def test_docs_page_renders_the_committed_ecosystem_results(
    runs: dict[int, Any], tmp_path: Path
) -> None:
    from docs_build import sources  # registers the generators
    from docs_build.directives import Context, expand

    assert sources.ecosystem_matrix is not None
    doc, page = runs[2]
    directive = "<!-- gen: ecosystem-matrix -->\n"
    assert "Not generated yet" in expand(directive, Context(tmp_path, "x.md"))
    results = tmp_path / "results" / "ecosystem"
    results.mkdir(parents=True)
    (results / MD_NAME).write_text(page)
    shown = expand(directive, Context(tmp_path, "x.md"))
    assert "# Ecosystem conformance matrix" not in shown  # the page has its own title
    assert "### Findings" in shown and "\n## " not in shown  # a section of the page
    assert f"`{doc['command']}`" in shown
    for impl in doc["implementations"]:
        assert f"| {impl['id']} |" in shown


def test_documents_of_disjoint_runs_merge() -> None:
    config = cfg.parse_config(BASE)

    def doc_of(entries: list[cfg.Entry], command: str) -> dict[str, Any]:
        cells = expand(config, entries)
        results = {c.key: {"status": "not installed", "error": "missing: x"} for c in cells}
        return build_document(config, entries, results, cells, command=command, run={"w": 1})

    one, two = doc_of([config.entries[0]], "a"), doc_of([config.entries[1]], "b")
    merged = merge_documents([one, two])
    assert [i["id"] for i in merged["implementations"]] == ["numpy", "torch-adam"]
    assert merged["cells"] == {**one["cells"], **two["cells"]}
    assert list(merged["cells"]) == sorted(merged["cells"])
    assert merged["command"] == (
        "a --out PART1 && b --out PART2 && adamproofs matrix --merge PART1 PART2"
    )
    assert set(merged["libraries"]) == {"numpy", "torch"}
    with pytest.raises(ValueError, match="in two documents"):
        merge_documents([one, one])
    with pytest.raises(ValueError, match="profile differs"):
        merge_documents([one, {**two, "profile": "thorough"}])


# --- long-lived cell processes -------------------------------------------------------------------


def _requests(tmp_path: Path, target: str = "numpy") -> list[dict[str, Any]]:
    """A fingerprint request and three property requests of ``target`` (quick, float32)."""
    data = copy.deepcopy(BASE)
    data["run"]["properties"] = ["first_step", "step_bound", "inputs_unmutated"]
    data["implementations"] = [{"id": "t", "library": "numpy", "target": target}]
    config = cfg.parse_config(data)
    cells = expand(config)
    jobs = jobs_for(
        config, list(config.entries), cells, current_env=True, envs_dir=tmp_path, timeout=60
    )
    return [dict(job.request) for job in jobs]


def _serve(requests: list[dict[str, Any]], cells_per_process: int) -> list[dict[str, Any]]:
    interpreter = current_interpreter()
    fingerprint = run_in_process(
        interpreter, requests[0], timeout=120, cells_per_process=cells_per_process
    )
    out = [fingerprint]
    for request in requests[1:]:
        request = {**request, "judged_by": fingerprint["judged_by"]}
        out.append(
            run_in_process(interpreter, request, timeout=120, cells_per_process=cells_per_process)
        )
    return out


def test_a_reused_process_gives_what_a_fresh_process_per_cell_gives(tmp_path: Path) -> None:
    requests = _requests(tmp_path)
    reused = _serve(requests, cells_per_process=50)
    fresh = _serve(requests, cells_per_process=1)
    assert [r["status"] for r in reused] == ["checked"] * 4
    assert reused[0]["detected"] == "paper"
    assert [r.get("verdict") for r in reused[1:]] == ["pass"] * 3
    assert reused == fresh


def test_a_process_is_replaced_after_its_cells(tmp_path: Path) -> None:
    from adamproofs.conformance.ecosystem import processes

    requests = _requests(tmp_path)
    interpreter = current_interpreter()
    pids = []
    for request in requests[:3]:
        run_in_process(interpreter, request, timeout=120, cells_per_process=2)
        live = processes._POOL.processes.get((interpreter, ""))
        pids.append(None if live is None else live.pid)
    # the first process served two cells and was closed; the third cell started another
    assert pids[0] is not None and pids[1] is None and pids[2] not in (None, pids[0])
    processes.close_all()
    assert not processes._POOL.processes
    with pytest.raises(ValueError, match="cells_per_process=0 must be >= 1"):
        run_in_process(interpreter, requests[0], timeout=1, cells_per_process=0)


def test_cell_processes_use_one_thread_unless_the_user_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from adamproofs.conformance.ecosystem.envs import ONE_THREAD

    for name in ONE_THREAD:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    env = current_interpreter().environ()
    assert env["OMP_NUM_THREADS"] == "4"  # the user's
    assert env["TF_NUM_INTRAOP_THREADS"] == "1" and env["MKL_NUM_THREADS"] == "1"
    assert "intra_op_parallelism_threads=1" in env["XLA_FLAGS"]
    pytest.importorskip("torch")
    monkeypatch.delenv("OMP_NUM_THREADS")
    threads = subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.get_num_threads())"],
        env=current_interpreter().environ(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert threads.stdout.strip() == "1"


def test_implementations_never_share_a_process(tmp_path: Path) -> None:
    """Cells of one implementation share a process; another implementation gets its own."""
    from adamproofs.conformance.ecosystem import processes

    processes.close_all()
    interpreter = current_interpreter()
    request = _requests(tmp_path)[0]
    pids = {}
    for implementation in ("a", "b", "a"):
        run_in_process(
            interpreter, request, timeout=120, cells_per_process=50, implementation=implementation
        )
        pids.setdefault(implementation, set()).add(
            processes._POOL.processes[(interpreter, implementation)].pid
        )
    assert len(pids["a"]) == 1 and len(pids["b"]) == 1
    assert pids["a"] != pids["b"]
    processes.close_all()


def test_a_thread_keeps_few_processes_alive(tmp_path: Path) -> None:
    """Starting a process beyond the limit ends the least recently used one."""
    from adamproofs.conformance.ecosystem import processes

    processes.close_all()
    base = current_interpreter()
    # interpreters that differ only in an unused PYTHONPATH entry: distinct processes
    interpreters = [
        Interpreter(base.python, os.pathsep.join([base.pythonpath, str(tmp_path / str(k))]))
        for k in range(processes.MAX_LIVE_PROCESSES + 1)
    ]
    request = _requests(tmp_path)[0]
    started = []
    for interpreter in [*interpreters[:-1], interpreters[0], interpreters[-1]]:
        run_in_process(interpreter, request, timeout=120, cells_per_process=50)
        started.append(processes._POOL.processes[(interpreter, "")].pid)
    live = list(processes._POOL.processes)
    assert len(live) == processes.MAX_LIVE_PROCESSES
    assert (interpreters[1], "") not in live  # the least recently used
    assert (interpreters[0], "") in live  # used again after interpreters[1], so kept
    assert started[0] == started[processes.MAX_LIVE_PROCESSES]  # reused, not restarted
    processes.close_all()


def test_a_looping_cell_times_out_and_the_next_cell_gets_a_fresh_process(
    tmp_path: Path,
) -> None:
    looping = _requests(tmp_path, "tests.conformance.hostile.step:InfiniteLoop")[0]
    process = CellProcess(current_interpreter())
    with pytest.raises(CellTimedOut, match=r"timed out after 3 s \(the cell's process was killed"):
        process.run(looping, timeout=3)
    with pytest.raises(ProcessLookupError):
        os.kill(process.pid, 0)  # killed and reaped
    result = run_in_process(
        current_interpreter(), _requests(tmp_path)[0], timeout=120, cells_per_process=5
    )
    assert result["status"] == "checked"


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("step:OsExit0", "exited with status 0 without a result"),
        ("step:OsExit3", "exited with status 3 without a result"),
        ("step:KillSegv", "died of signal 11"),
    ],
)
def test_a_cell_process_that_ends_without_a_result_is_a_crash(
    tmp_path: Path, target: str, words: str
) -> None:
    request = _requests(tmp_path, f"tests.conformance.hostile.{target}")[0]
    interpreter = current_interpreter()
    with pytest.raises(CellCrashed, match=words):
        run_in_process(interpreter, request, timeout=120, cells_per_process=50)
    from adamproofs.conformance.ecosystem import processes

    assert (interpreter, "") not in processes._POOL.processes  # the next cell starts afresh


def test_a_cell_timeout_is_the_cells_result_not_a_retry(tmp_path: Path) -> None:
    job = _numpy_job(tmp_path, current_interpreter())
    looping = {**job.request, "entry": {**job.request["entry"], "target": "x"}}
    looping["entry"]["target"] = "tests.conformance.hostile.step:InfiniteLoop"
    job = dataclasses.replace(job, request=looping, timeout=3)
    result = run_cell(job)
    assert result["status"] == "error"
    assert result["error"] == "timed out after 3 s (the cell's process was killed)"


def test_what_a_target_prints_or_reads_does_not_reach_the_result_channel(
    tmp_path: Path,
) -> None:
    """The target prints a line that looks like a result, writes to descriptor 1 and reads
    standard input in every step; the process still answers each request with its result."""
    requests = _requests(tmp_path, "tests.conformance.hostile.channels:Chatty")
    results = _serve(requests, cells_per_process=50)
    assert results[0]["status"] == "checked" and results[0]["verdict"] == "pass"
    assert [r["verdict"] for r in results[1:]] == ["pass"] * 3
    assert all("examples" in r for r in results[1:])  # real property results, not the fake
