"""The command line: ``python -m mpcore reproduce`` (the study, :mod:`mpcore.study`, trained by
:mod:`mpcore.runner` and reported by :mod:`mpcore.report`), ``classroom``, ``grade`` and ``site``
(the static course site, :mod:`mpcore.site`)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import experiments
from .report import write_report
from .study import PART_NAMES, run_study


def check_data_dir(data_dir: Path, parts) -> None:
    if not data_dir.is_dir():
        raise SystemExit(f"mpcore reproduce: --data-dir {data_dir} is not a directory")
    needed = [experiments.PARTS[p].config.data_file for p in parts]
    missing = [name for name in needed if not (data_dir / name).is_file()]
    if missing:
        raise SystemExit(f"mpcore reproduce: {data_dir} lacks {', '.join(missing)} (needed for the parts asked for; "
                         f"use --parts to run only some)")


def check_writable(path: Path, option: str, command: str = "reproduce") -> None:
    """Fail before any work if folder ``path`` cannot be created or written (SystemExit, status 2)."""
    import tempfile

    if path.exists() and not path.is_dir():
        raise SystemExit(f"mpcore {command}: {option} {path} is a file, not a folder: choose another path")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as e:
        raise SystemExit(f"mpcore {command}: cannot write to {option} {path} ({e.strerror or e}): choose a folder you "
                         f"can write to") from None


def classroom(out: Path, notebooks: Path | None) -> int:
    """``mpcore classroom``: the nbgrader course folder (:mod:`mpcore.classroom`)."""
    import importlib.util

    if importlib.util.find_spec("nbgrader") is None:
        print("mpcore classroom: nbgrader is not installed; install the classroom extra: "
              "pip install -e \".[classroom]\"", file=sys.stderr)
        return 2
    from .classroom import ASSIGNMENT, build

    try:
        check_writable(out, "--out", "classroom")
        print(f"mpcore classroom: generating the student version with nbgrader in {out}/ ...", flush=True)
        release = build(out, notebooks)
    except SystemExit as e:
        print(e, file=sys.stderr)
        return 2
    except (FileNotFoundError, FileExistsError, ValueError, RuntimeError) as e:
        print(f"mpcore classroom: {e}", file=sys.stderr)
        return 2
    print(f"instructor notebooks: {out / 'source' / ASSIGNMENT}/\nstudent notebooks:    {release}/\n"
          f"nbgrader course:      {out}/ (nbgrader_config.py, gradebook.db); see README, 'Teaching with mpcore'")
    return 0


def grade(course: Path, student: str | None, sandbox: bool, timeout: float) -> int:
    """``mpcore grade``: score the submissions of an nbgrader course, student code sandboxed (:mod:`mpcore.grading`)."""
    import importlib.util

    if importlib.util.find_spec("nbgrader") is None:
        print("mpcore grade: nbgrader is not installed; install the classroom extra: "
              "pip install -e \".[classroom]\"", file=sys.stderr)
        return 2
    from .classroom import ASSIGNMENT
    from .grading import course as G

    if not sandbox:
        print("mpcore grade: --no-sandbox: student code runs in plain child processes that can read your files; "
              "use it only for submissions you trust", file=sys.stderr)
    try:
        results = G.grade(course, student, sandbox=sandbox, timeout=timeout)
    except G.GradingError as e:
        print(f"mpcore grade: {e}", file=sys.stderr)
        return 2
    total = sum(r.score for r in results)
    print(f"graded {len(results)} student(s) into {course / 'gradebook.db'} ({total:g} points in all); "
          f"inline questions: nbgrader formgrade; feedback: nbgrader generate_feedback {ASSIGNMENT}")
    return 0


def site(out: Path, repository: str | None, branch: str | None, notebooks: Path | None) -> int:
    """``mpcore site``: the course as a static web site (:mod:`mpcore.site`)."""
    from .site import SiteError, build_site

    t0 = time.perf_counter()
    try:
        manifest = build_site(out, repository=repository, branch=branch, notebooks=notebooks,
                              progress=lambda line: print(line, flush=True))
    except SiteError as e:
        print(f"mpcore site: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"mpcore site: interrupted; {out} is unchanged unless the copy had begun (rerun to finish it)",
              file=sys.stderr)
        return 130
    pages = ", ".join(p["page"] for p in manifest["pages"])
    print(f"done in {time.perf_counter() - t0:.0f} s: {out}/index.html ({pages}); view it with "
          f"python -m http.server -d {out}, publish the folder as it is (README, 'The course site')")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="mpcore", description="mpcore: teaching neural networks in numpy")
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("reproduce", help="rerun the study and write figures and summaries")
    rep.add_argument("--out", type=Path, default=Path("results"), help="output folder (default: results)")
    files = " / ".join(part.config.data_file for part in experiments.PARTS.values())
    rep.add_argument("--data-dir", type=Path, default=None,
                     help=f"folder with the course's {files} (default: bundled data)")
    rep.add_argument("--parts", nargs="+", choices=PART_NAMES, default=list(PART_NAMES))
    rep.add_argument("--quick", action="store_true", help="a smoke run of every part in under a minute")
    rep.add_argument("--jobs", type=int, default=2, help="experiments trained in parallel with joblib (default 2)")
    rep.add_argument("--scheduler", default=None, help="address of a Dask distributed scheduler to train on")
    rep.add_argument("--store", type=Path, default=None,
                     help="results store folder (default: shipped results, then the user cache or $MPCORE_CACHE_DIR)")
    rep.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    cls = sub.add_parser("classroom", help="build the student and instructor notebooks (nbgrader course folder)")
    cls.add_argument("--out", type=Path, default=Path("classroom"), help="course folder to write (default: classroom)")
    cls.add_argument("--notebooks", type=Path, default=None,
                     help="folder with the walkthrough notebooks (default: the checkout's notebooks/)")
    grd = sub.add_parser("grade", help="score a course's submissions, each solution in a sandboxed process")
    grd.add_argument("course", type=Path, help="the course folder written by `mpcore classroom`")
    grd.add_argument("--student", default=None, help="grade this student only (default: every submission)")
    grd.add_argument("--timeout", type=float, default=60.0, help="seconds for one exercise's check (default 60)")
    grd.add_argument("--no-sandbox", action="store_true",
                     help="run student code without bubblewrap (trusted submissions only)")
    web = sub.add_parser("site", help="build the course as a static web site (Jupyter Book; needs mpcore[site])")
    web.add_argument("--out", type=Path, default=Path("site"), help="folder to write the site to (default: site)")
    web.add_argument("--repository", default=None,
                     help="GitHub repository for the Binder links, OWNER/NAME or its URL (default: the git remote "
                          "origin, when it is on GitHub; without one, no Binder links)")
    web.add_argument("--branch", default=None,
                     help="branch, tag or commit the Binder links open (default: HEAD, the default branch)")
    web.add_argument("--notebooks", type=Path, default=None,
                     help="folder with the notebooks (default: the checkout's notebooks/)")
    args = parser.parse_args(argv)
    if args.command == "site":
        return site(args.out, args.repository, args.branch, args.notebooks)
    if args.command == "classroom":
        return classroom(args.out, args.notebooks)
    if args.command == "grade":
        return grade(args.course, args.student, not args.no_sandbox, args.timeout)
    if args.jobs < 1:
        parser.error("--jobs must be >= 1")
    if args.data_dir is not None:
        check_data_dir(args.data_dir, args.parts)
    from .data import DataFormatError
    from .store import Store, user_cache_dir
    from .train import TrainingDiverged

    try:
        check_writable(args.out, "--out")
        check_writable(args.store if args.store is not None else user_cache_dir(), "--store")
    except SystemExit as e:
        print(e, file=sys.stderr)
        return 2

    t0 = time.perf_counter()
    print(f"mpcore reproduce: {', '.join(args.parts)}, jobs={args.jobs}", flush=True)
    import signal

    def terminated(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, terminated)  # like Ctrl-C: stop the workers, keep what is stored
    try:
        store = Store(args.store) if args.store is not None else Store()
        results, chosen = run_study(args.parts, args.quick, args.data_dir, store, jobs=args.jobs,
                                    scheduler=args.scheduler, progress=sys.stderr.isatty())
        write_report(results, args.out, args.data_dir, chosen)
    except DataFormatError as e:
        if args.debug:
            raise
        print(f"mpcore reproduce: bad data file: {e}", file=sys.stderr)
        return 2
    except TrainingDiverged as e:
        if args.debug:
            raise
        print(f"mpcore reproduce: training diverged: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        if args.debug:
            raise
        print(f"mpcore reproduce: {e.strerror or e}: {e.filename or ''} (use --debug for the traceback)",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("mpcore reproduce: interrupted; every experiment that finished is in the store, and a rerun "
              "continues from there", file=sys.stderr)
        return 130
    print((args.out / "summary.md").read_text())
    print(f"done in {time.perf_counter() - t0:.0f} s; figures and summaries in {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
