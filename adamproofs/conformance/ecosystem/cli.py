"""``adamproofs matrix``: the ecosystem conformance matrix on ``dask.distributed``.

Exit status: 0 when the matrix was written (an implementation that does not conform, cannot be
installed or has no adapter is a finding in the matrix, not a failure of the command); 2 for a
bad configuration or option; 1 when the matrix could not be produced.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from ...errors import ConfigError
from .cells import Cell, expand
from .config import Config, Entry, load_config, parse_config
from .envs import EnvError, current_interpreter, ensure_env
from .render import write_document
from .schedule import Job, execute, local_client, log, remote_client

#: Cells one library process runs before it is replaced (see :mod:`.processes`).
DEFAULT_CELLS_PER_PROCESS = 50

EPILOG = """\
The configuration (--config; default: the ecosystem.toml shipped in
adamproofs/conformance/ecosystem/) lists libraries (pip specs) and implementations (target,
kind, options, claimed variant). Each library gets a virtual environment under --envs-dir,
built once from the package registry (pip install THIS-CHECKOUT SPEC...); --current-env runs
everything in this interpreter instead. Every cell (implementation x dtype x property x seed,
plus one fingerprint per implementation and dtype) runs in a process of its library's
environment, as a task on a Dask LocalCluster (--workers) or on a running scheduler
(--scheduler tcp://HOST:8786). Each worker keeps one process per implementation and reuses
it for --cells-per-process cells, so a framework is not imported again for every cell.
Writes ecosystem-matrix.json and ecosystem-matrix.md in --out.
"""


def register(subparsers: Any) -> None:
    """Add the ``matrix`` sub-command."""
    p = subparsers.add_parser(
        "matrix",
        help="check many libraries' Adam implementations (the ecosystem matrix, on Dask)",
        description="The ecosystem conformance matrix: adamproofs check over the implementations "
        "a TOML file lists, each library in its own environment, the cells on dask.distributed.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--config", help="the TOML file (default: the shipped ecosystem.toml)")
    p.add_argument("--out", default="build/ecosystem", help="output directory")
    p.add_argument("--only", help="comma-separated implementation ids (default: all)")
    p.add_argument("--libraries", help="comma-separated library names (default: all)")
    p.add_argument("--profile", help="override the configuration's profile")
    p.add_argument("--seeds", help="override the seeds (comma-separated)")
    p.add_argument("--dtypes", help="override the dtypes (comma-separated)")
    p.add_argument("--properties", help="override the properties (comma-separated)")
    envs = p.add_mutually_exclusive_group()
    envs.add_argument(
        "--current-env",
        "--no-envs",
        dest="current_env",
        action="store_true",
        help="run every cell in this interpreter (no per-library environments)",
    )
    envs.add_argument(
        "--envs-dir", default=".adamproofs-envs", help="where the environments are cached"
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=2, help="LocalCluster workers (default 2)")
    where.add_argument("--scheduler", help="address of a running dask scheduler")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds per cell (default 900)")
    p.add_argument(
        "--cells-per-process",
        type=int,
        default=DEFAULT_CELLS_PER_PROCESS,
        metavar="N",
        help="cells one process of an implementation runs before a fresh one replaces it "
        f"(default {DEFAULT_CELLS_PER_PROCESS}; 1: a fresh process per cell)",
    )
    p.add_argument(
        "--retries",
        type=int,
        default=2,
        help="reruns of a cell whose process crashed or whose worker died (default 2)",
    )
    p.add_argument(
        "--merge",
        nargs="+",
        metavar="DIR",
        help="instead of running: merge the matrices in DIR... (runs of disjoint "
        "implementations with the same settings) into --out",
    )
    p.set_defaults(func=run)


def _csv(value: str | None) -> list[str] | None:
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


def _with_overrides(config: Config, args: argparse.Namespace) -> Config:
    """The configuration with the command line's run settings (validated like the file's)."""
    run: dict[str, Any] = {}
    if args.profile is not None:
        run["profile"] = args.profile
    if args.dtypes is not None:
        run["dtypes"] = _csv(args.dtypes)
    if args.properties is not None:
        run["properties"] = _csv(args.properties)
    if args.seeds is not None:
        try:
            run["seeds"] = [int(s) for s in _csv(args.seeds) or []]
        except ValueError:
            raise ConfigError(f"--seeds={args.seeds!r} must be comma-separated ints >= 0") from None
    if not run:
        return config
    base = {
        "profile": config.profile,
        "seeds": list(config.seeds),
        "dtypes": list(config.dtypes),
        "properties": list(config.properties),
    }
    checked = parse_config(
        {
            "run": {**base, **run},
            "libraries": {
                n: {"pip": list(lib.pip), "modules": list(lib.modules)}
                for n, lib in config.libraries.items()
            },
            "implementations": [
                {k: v for k, v in e.as_dict().items() if v is not None} for e in config.entries
            ],
        },
        source=config.source,
    )
    return dataclasses.replace(config, **{k: getattr(checked, k) for k in base})


def select(config: Config, only: list[str] | None, libraries: list[str] | None) -> list[Entry]:
    """The entries ``--only`` and ``--libraries`` pick (each name must exist)."""
    ids = [e.id for e in config.entries]
    for name in only or []:
        if name not in ids:
            raise ConfigError(f"--only: {name!r} is not an implementation id; allowed: {ids}")
    for name in libraries or []:
        if name not in config.libraries:
            raise ConfigError(
                f"--libraries: {name!r} is not a library; allowed: {list(config.libraries)}"
            )
    return [
        e
        for e in config.entries
        if (only is None or e.id in only) and (libraries is None or e.library in libraries)
    ]


def _command(args: argparse.Namespace) -> str:
    """The command line that decides the results (where and on how many workers it ran does
    not: see the document's ``run``)."""
    parts = ["adamproofs", "matrix"]
    for flag in ("config", "only", "libraries", "profile", "seeds", "dtypes", "properties"):
        value = getattr(args, flag)
        if value is not None:
            parts += [f"--{flag}", str(value)]
    if args.current_env:
        parts.append("--current-env")
    return shlex.join(parts)


def jobs_for(
    config: Config,
    entries: list[Entry],
    cells: list[Cell],
    *,
    current_env: bool,
    envs_dir: Path,
    timeout: float,
    cells_per_process: int = 1,
) -> list[Job]:
    """A :class:`Job` per cell: the request its subprocess reads and where it runs."""
    by_id = {e.id: e for e in entries}
    interpreter = current_interpreter() if current_env else None
    jobs = []
    for cell in cells:
        entry = by_id[cell.entry]
        library = config.libraries[entry.library]
        request = {
            "cell": dataclasses.asdict(cell),
            "entry": entry.as_dict(),
            "profile": config.profile,
            "modules": list(library.modules),
            "adapter": entry.adapter_needed,
        }
        jobs.append(
            Job(
                cell=cell,
                request=request,
                library=None if current_env else library,
                interpreter=interpreter,
                env_root=str(envs_dir.resolve()),
                timeout=timeout,
                cells_per_process=cells_per_process,
            )
        )
    return jobs


def build_envs(config: Config, entries: list[Entry], root: Path) -> dict[str, str]:
    """Build each used library's environment (cached); library -> why it failed."""
    failed = {}
    for name in dict.fromkeys(e.library for e in entries):
        started = time.perf_counter()
        log(f"environment {name}: {' '.join(config.libraries[name].pip) or '(adamproofs only)'}")
        try:
            ensure_env(config.libraries[name], root)
        except EnvError as err:
            failed[name] = str(err)
            log(f"environment {name}: FAILED: {err}")
            continue
        log(f"environment {name}: ready ({time.perf_counter() - started:.0f} s)")
    return failed


def merge(dirs: list[str], out: Path) -> int:
    """``--merge``: one matrix from the matrices in ``dirs``."""
    import json

    from .render import JSON_NAME, merge_documents

    try:
        docs = [json.loads((Path(d) / JSON_NAME).read_text()) for d in dirs]
        doc = merge_documents(docs)
    except (OSError, ValueError) as err:
        print(f"adamproofs matrix --merge: {err}", file=sys.stderr)
        return 2
    json_path, md_path = write_document(doc, out)
    log(f"wrote {json_path} and {md_path}")
    return 0


def run(args: argparse.Namespace) -> int:
    from .render import build_document

    if args.merge:
        return merge(args.merge, Path(args.out))

    try:
        if args.workers < 1:
            raise ConfigError(f"--workers={args.workers} must be >= 1")
        if args.cells_per_process < 1:
            raise ConfigError(f"--cells-per-process={args.cells_per_process} must be >= 1")
        if args.retries < 0:
            raise ConfigError(f"--retries={args.retries} must be >= 0")
        if not args.timeout > 0:
            raise ConfigError(f"--timeout={args.timeout} must be a positive number of seconds")
        config = _with_overrides(load_config(args.config), args)
        entries = select(config, _csv(args.only), _csv(args.libraries))
    except ConfigError as err:
        print(f"adamproofs matrix: {err}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    envs_dir = Path(args.envs_dir)
    install_errors = (
        {} if args.current_env or args.scheduler else build_envs(config, entries, envs_dir)
    )
    cells = expand(config, entries)
    library_of = {e.id: e.library for e in entries}
    runnable = [c for c in cells if library_of[c.entry] not in install_errors]
    results: dict[str, dict[str, Any]] = {
        c.key: {"status": "not installed", "error": install_errors[library_of[c.entry]]}
        for c in cells
        if library_of[c.entry] in install_errors
    }
    jobs = jobs_for(
        config,
        entries,
        runnable,
        current_env=args.current_env,
        envs_dir=envs_dir,
        timeout=args.timeout,
        cells_per_process=args.cells_per_process,
    )
    log(f"{len(cells)} cells ({len(runnable)} to run) of {len(entries)} implementations")
    client = (
        remote_client(args.scheduler)
        if args.scheduler
        else local_client(args.workers, args.retries)
    )
    try:
        results.update(execute(client, jobs, retries=args.retries, progress=log))
        workers = len(client.scheduler_info()["workers"])
    finally:
        cluster = client.cluster
        client.close()
        if cluster is not None:
            cluster.close()
    doc = build_document(
        config,
        entries,
        results,
        cells,
        command=_command(args),
        run={
            "workers": workers,
            "scheduler": args.scheduler or "LocalCluster",
            "environments": "current" if args.current_env else "per library",
            "wall_seconds": round(time.perf_counter() - started, 1),
        },
        install_errors=install_errors,
    )
    json_path, md_path = write_document(doc, Path(args.out))
    log(f"wrote {json_path} and {md_path} ({doc['run']['wall_seconds']:.0f} s)")
    return 0
