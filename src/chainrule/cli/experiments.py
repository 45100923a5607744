"""``chainrule compare``, ``chainrule tune`` and ``chainrule study show|plot|export``: many
trainings at once, kept in one study file (``chainrule.experiments``).

Running the same command again continues a study that was interrupted: finished trials are
not trained again, and a trial that was running continues from its last checkpoint.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path
from typing import Any

from .. import activations
from ..atomic import write_bytes_atomically
from ..experiments.space import (
    Choice,
    IntUniform,
    LogUniform,
    SpaceError,
    Uniform,
    coarse_to_fine_configs,
    random_configs,
    space_to_json,
)
from .common import (
    CommandError,
    UsageError,
    _command_group,
    _note,
    _positive_int,
    _say,
    _subparser,
)

# The course's advice, put to the test: its activations at shallow to deep depths, 3 seeds.
PRESETS = {
    "activations": {
        "activations": ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "silu", "mish"],
        "depths": [2, 5, 10],
        "seeds": 3,
    },
}
# chainrule tune's space: the course's scales (learning rate on a log scale, ...).
TUNE_SPACE = {
    "lr": LogUniform(1e-4, 1e-1),
    "batch_size": Choice([16, 32, 64, 128]),
    "width": Choice([16, 32, 64, 128]),
    "depth": IntUniform(1, 4),
    "activation": Choice(["relu", "leaky_relu", "elu", "tanh"]),
    "optimizer": Choice(["adam", "momentum", "rmsprop"]),
    "l2": Choice([0.0, 1e-4, 1e-3]),
    "dropout": Uniform(0.0, 0.3),
}
SCHEDULER_NAMES = ("asha", "halving", "all")


def _names(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected names separated by commas")
    return names


def _depths(text: str) -> list[int]:
    try:
        depths = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected depths like 2,5,10, got {text!r}") from None
    if any(depth < 0 for depth in depths):
        raise argparse.ArgumentTypeError(f"depths must be >= 0, got {text!r}")
    return depths


# ====================================================================== running a study
def _run(
    path: Path,
    configs: list[dict[str, Any]],
    scheduler: Any,
    metric: str,
    args: argparse.Namespace,
    extra: dict[str, Any],
) -> Any:
    """Open or create the study, run it with a progress line, and return it (open)."""
    from ..experiments import Study, StudyFileError, executor_for
    from ..experiments.report import ProgressLine

    try:  # the cluster first: a bad address leaves no study file behind
        executor, slots, owned = executor_for(args.cluster, args.workers)
    except (ValueError, ImportError) as error:
        raise UsageError(str(error)) from None
    line = ProgressLine()
    try:
        study = Study.open_or_create(path, configs, scheduler, metric, extra=extra)
        final = study.run(executor, parallel=slots, progress=line)
    except StudyFileError as error:
        raise CommandError(str(error)) from None
    finally:
        line.close()
        if owned is not None:
            (owned.shutdown if hasattr(owned, "shutdown") else owned.close)()
    if final.done == 0:
        study.close()
        raise CommandError(
            f"no trial finished ({final.failed} failed); see 'chainrule study "
            f"export {path}' for their errors"
        )
    return study


def _finish(study: Any, output: str | None, limit: int | None, claims: bool = False) -> None:
    from ..experiments.report import format_ranking

    _say(format_ranking(study.trials(), study.objective, limit=limit))
    if claims:
        _say("")
        _say_claims(study)
    best = study.best()
    if output and best is not None:
        study.save_model(best.id, output)
        _say(f"The best trial ({best.id}) is saved as {output}.")
    study.close()


def _check_activations(names: list[str]) -> None:
    for name in names:
        try:
            activations.get(name)
        except (KeyError, ValueError) as error:
            raise UsageError(str(error).strip("'\"")) from None


# ====================================================================== compare
def compare_configs(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Data sets × activations × depths × seeds, each with the same budget."""
    return [
        {
            "data": data,
            "activation": activation,
            "depth": depth,
            "seed": seed,
            "width": args.width,
            "lr": args.lr,
            "optimizer": args.optimizer,
            "batch_size": args.batch_size,
        }
        for data, activation, depth, seed in itertools.product(
            args.data, args.activations, args.depths, range(args.seeds)
        )
    ]


def command_compare(args: argparse.Namespace) -> int:
    from ..experiments import RunAll

    preset = PRESETS.get(args.preset, {})
    for key, value in preset.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.activations = args.activations or ["relu", "tanh", "sigmoid"]
    args.depths = args.depths or [2]
    args.seeds = args.seeds or 3
    _check_activations(args.activations)
    configs = compare_configs(args)
    _note(f"{len(configs)} trials of {args.epochs} epochs in {args.study}")
    study = _run(
        Path(args.study), configs, RunAll(args.epochs), "val_accuracy", args, {"command": "compare"}
    )
    _finish(study, args.output, None, claims=True)
    return 0


def _say_claims(study: Any) -> None:
    """What the study's figures say about the course's advice (chainrule.experiments.claims)."""
    from ..experiments.claims import format_claims, study_claims

    _say(format_claims(study_claims(study.trials(), study.objective.metric)))


def _add_compare(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = _subparser(
        commands,
        "compare",
        command_compare,
        "compare activations and depths over seeds",
        (
            "Train every combination of data set × activation × depth × seed with the same budget\n"
            "and rank the settings by validation accuracy (mean and spread over the seeds).\n"
            "The study is kept in --study; run the same command again to continue it."
        ),
        common,
    )
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default=None,
        help="activations: sigmoid, tanh, relu, leaky ReLU, ELU, GELU, SiLU "
        "and Mish at depths 2, 5 and 10 over 3 seeds%(default).0s",
    )
    parser.add_argument(
        "--activations",
        type=_names,
        default=None,
        metavar="A,B,...",
        help="activation names (default: relu,tanh,sigmoid)%(default).0s",
    )
    parser.add_argument(
        "--depths",
        type=_depths,
        default=None,
        metavar="N,N,...",
        help="hidden-layer counts (default: 2)%(default).0s",
    )
    parser.add_argument(
        "--seeds",
        type=_positive_int,
        default=None,
        help="seeds per setting (default: 3)%(default).0s",
    )
    parser.add_argument(
        "--data", type=_names, default=["moons"], metavar="NAME,...", help="built-in data sets"
    )
    parser.add_argument("--width", type=_positive_int, default=32, help="units per layer")
    parser.add_argument("--epochs", type=_positive_int, default=10)
    parser.add_argument("--lr", type=float, default=0.01, help="learning rate")
    parser.add_argument("--optimizer", default="adam")
    parser.add_argument("--batch-size", type=_positive_int, default=32)
    parser.add_argument(
        "--study", default="compare.study", metavar="FILE", help="the study file (SQLite)"
    )
    _add_execution_options(parser)


# ====================================================================== tune
def _scheduler(args: argparse.Namespace) -> Any:
    from ..experiments import ASHA, RunAll, SuccessiveHalving

    if args.scheduler == "all":
        return RunAll(args.max_epochs)
    kind = ASHA if args.scheduler == "asha" else SuccessiveHalving
    try:
        return kind(args.min_epochs, args.max_epochs, args.reduction_factor)
    except ValueError as error:
        raise UsageError(str(error)) from None


def command_tune(args: argparse.Namespace) -> int:
    scheduler = _scheduler(args)
    try:
        configs = [
            {**config, "data": args.data}
            for config in random_configs(TUNE_SPACE, args.trials, seed=args.seed)
        ]
    except SpaceError as error:
        raise UsageError(str(error)) from None
    _note(
        f"{args.trials} random configurations, {args.scheduler} up to {args.max_epochs} "
        f"epochs, in {args.study}"
    )
    settings = {"command": "tune", "space": space_to_json(TUNE_SPACE), "seed": args.seed}
    study = _run(Path(args.study), configs, scheduler, "val_accuracy", args, settings)
    if not args.refine:
        _finish(study, args.output, args.top)
        return 0
    fine = _refine(study, args, scheduler, settings)
    _finish_rounds(study, fine, args.output, args.top)
    return 0


def fine_study_path(coarse: str | Path) -> Path:
    """Where the second (fine) round of ``chainrule tune --refine`` keeps its trials."""
    coarse = Path(coarse)
    return coarse.with_name(coarse.stem + ".fine" + coarse.suffix)


def _refine(coarse: Any, args: argparse.Namespace, scheduler: Any, settings: dict[str, Any]) -> Any:
    """The fine round: ``--refine`` random configurations from the space zoomed on the best
    quarter of the coarse round (each trial scored by its last recorded objective value).
    The coarse round's results fix these configurations, so running the command again
    reopens the same fine study and redoes nothing that finished."""
    scored = [
        ({name: trial.config[name] for name in TUNE_SPACE}, coarse.objective.goodness(trial))
        for trial in coarse.trials()
        if trial.status != "failed" and trial.history
    ]
    try:
        configs = [
            {**config, "data": args.data}
            for config in coarse_to_fine_configs(
                TUNE_SPACE, scored, args.refine, seed=args.seed + 1
            )
        ]
    except SpaceError as error:
        raise CommandError(f"cannot refine: {error}") from None
    path = fine_study_path(args.study)
    _note(
        f"Refining: {args.refine} configurations around the best quarter of the first "
        f"round, in {path}"
    )
    return _run(
        path,
        configs,
        scheduler,
        "val_accuracy",
        args,
        {**settings, "round": "fine", "coarse_study": str(args.study)},
    )


def _finish_rounds(coarse: Any, fine: Any, output: str | None, limit: int | None) -> None:
    """Both rounds' rankings, and the better round's best model saved."""
    from ..experiments.report import format_ranking

    _say("First round (coarse):")
    _say(format_ranking(coarse.trials(), coarse.objective, limit=limit))
    _say("")
    _say("Second round (fine, zoomed on the best quarter):")
    _say(format_ranking(fine.trials(), fine.objective, limit=limit))
    rounds = [(study, study.best()) for study in (fine, coarse)]
    rounds = [(study, best) for study, best in rounds if best is not None]
    if output and rounds:
        study, best = max(rounds, key=lambda pair: pair[0].objective.goodness(pair[1]))
        study.save_model(best.id, output)
        name = "second" if study is fine else "first"
        _say(f"The best trial ({best.id} of the {name} round) is saved as {output}.")
    coarse.close()
    fine.close()


def _add_tune(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = _subparser(
        commands,
        "tune",
        command_tune,
        "random search with early stopping",
        (
            "Random search over learning rate (log scale), batch size, width, depth, activation,\n"
            "optimiser, L2 and dropout, with asynchronous successive halving (ASHA) by default:\n"
            "every trial trains --min-epochs, the best 1/η continue (from their checkpoints) to\n"
            "η times as many, up to --max-epochs. The best model is saved as --output."
        ),
        common,
    )
    parser.add_argument("--data", default="digits", metavar="NAME", help="a built-in data set")
    parser.add_argument("--trials", type=_positive_int, default=27)
    parser.add_argument(
        "--scheduler",
        choices=SCHEDULER_NAMES,
        default="asha",
        help="asha, halving (synchronous successive halving) or all (every trial to --max-epochs)",
    )
    parser.add_argument("--min-epochs", type=_positive_int, default=1)
    parser.add_argument("--max-epochs", type=_positive_int, default=9)
    parser.add_argument("--reduction-factor", type=_positive_int, default=3, metavar="ETA")
    parser.add_argument("--seed", type=int, default=0, help="seeds the sampling and trials")
    parser.add_argument(
        "--study", default="tune.study", metavar="FILE", help="the study file (SQLite)"
    )
    parser.add_argument("--top", type=_positive_int, default=10, help="rows of the ranking")
    parser.add_argument(
        "--refine",
        type=_positive_int,
        default=None,
        metavar="N",
        help="coarse to fine: after the first round, N more random "
        "configurations from the space zoomed on its best quarter (kept in "
        "STUDY.fine)%(default).0s",
    )
    _add_execution_options(parser, default_output="tune-best.npz")


def _add_execution_options(
    parser: argparse.ArgumentParser, default_output: str | None = None
) -> None:
    parser.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        help="local worker processes (default: one per core)%(default).0s",
    )
    parser.add_argument(
        "--cluster",
        default=None,
        metavar="ADDRESS",
        help="run the trials on a Dask cluster, tcp://host:8786 (needs "
        'pip install "chainrule[dask]"), or a Ray cluster, ray://host:10001 '
        '(needs pip install "chainrule[ray]")%(default).0s',
    )
    parser.add_argument(
        "--output",
        "-o",
        default=default_output,
        metavar="FILE",
        help="save the best trial's model there (an ordinary model file)",
    )


# ====================================================================== study show|export
def _open_study(path: str) -> Any:
    from ..experiments import Study, StudyFileError

    try:
        return Study.open(path)
    except StudyFileError as error:
        raise CommandError(str(error)) from None


def command_study_show(args: argparse.Namespace) -> int:
    from ..experiments.report import format_ranking

    with _open_study(args.file) as study:
        trials = study.trials()
        counts = {
            status: sum(t.status == status for t in trials)
            for status in ("done", "pruned", "failed", "running", "paused", "pending")
        }
        _say(
            f"{args.file}: {len(trials)} trials; "
            + ", ".join(f"{count} {status}" for status, count in counts.items() if count)
        )
        _say(f"Ranked by {study.objective.metric} ({study.objective.mode}):")
        _say(format_ranking(trials, study.objective, limit=args.top))
        if study.settings.get("command") == "compare":
            _say("")
            _say_claims(study)
    return 0


def command_study_export(args: argparse.Namespace) -> int:
    from ..experiments.report import export_csv

    with _open_study(args.file) as study:
        trials = study.trials()
        if args.html is not None:
            plots = _import_plots()
            page = plots.study_html(trials, study.objective, f"Study {Path(args.file).name}")
            write_bytes_atomically(Path(args.html), page.encode("utf-8"))
        if args.model is not None:
            best = study.best()
            if best is None:
                raise CommandError(f"no trial of {args.file} has trained yet: no model to save")
            study.save_model(best.id, args.model)
            _note(f"The best trial ({best.id}) is saved as {args.model}.")
    text = export_csv(trials)
    if args.output is not None:
        write_bytes_atomically(Path(args.output), text.encode("utf-8"))
    elif args.html is None and args.model is None:
        _say(text.rstrip("\n"))
    return 0


def _import_plots() -> Any:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise CommandError(
            'plotting needs matplotlib, which is not installed: pip install "chainrule[plot]"'
        ) from None
    from ..experiments import plots

    return plots


def command_study_plot(args: argparse.Namespace) -> int:
    plots = _import_plots()
    try:
        plots.figure_format(args.output)
    except ValueError as error:
        raise UsageError(str(error)) from None
    with _open_study(args.file) as study:
        try:
            plots.save_study_figure(study.trials(), study.objective, args.output)
        except ValueError as error:
            raise CommandError(f"{args.file}: {error}") from None
    _note(f"wrote {args.output}")
    return 0


def _add_study(commands: Any, common: argparse.ArgumentParser) -> None:
    actions = _command_group(
        commands,
        "study",
        "show, plot or export a study file",
        "Read a study file written by compare or tune.",
        common,
        dest="action",
        metavar="ACTION",
    )
    show = _subparser(
        actions,
        "show",
        command_study_show,
        "the ranking and the counts",
        "The trials' statuses and the settings ranked by the study's metric, "
        "with the spread over seeds.",
        common,
    )
    show.add_argument("file", metavar="FILE")
    show.add_argument("--top", type=_positive_int, default=None, help="rows to show")
    export = _subparser(
        actions,
        "export",
        command_study_export,
        "every trial as CSV",
        "One CSV row per trial: status, epochs, seconds, settings, final "
        "figures (health included), error.",
        common,
    )
    export.add_argument("file", metavar="FILE")
    export.add_argument(
        "--output",
        "-o",
        default=None,
        metavar="CSV",
        help="write the CSV there (default: stdout, unless --html or "
        "--model is given)%(default).0s",
    )
    export.add_argument(
        "--html",
        default=None,
        metavar="FILE",
        help="also write a self-contained HTML report: counts, ranking, "
        "claims and the figures as inline SVG (needs the plot extra)",
    )
    export.add_argument(
        "--model",
        default=None,
        metavar="FILE",
        help="also save the best trial's model there (an ordinary model file)",
    )
    plot = _subparser(
        actions,
        "plot",
        command_study_plot,
        "the study's figures",
        "Final metric against the learning rate (log axis), learning curves per "
        "activation, gradient norm and dead/saturated fraction per layer by "
        "activation and depth, in one PNG, SVG or PDF (by the suffix of -o).",
        common,
    )
    plot.add_argument("file", metavar="FILE")
    plot.add_argument(
        "--output", "-o", required=True, metavar="FIGURE", help="out.png, out.svg or out.pdf"
    )


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add compare, tune and study to the ``chainrule`` command's subcommands."""
    _add_compare(commands, common)
    _add_tune(commands, common)
    _add_study(commands, common)


__all__ = [
    "PRESETS",
    "TUNE_SPACE",
    "add_parser",
    "command_compare",
    "command_study_export",
    "command_study_plot",
    "command_study_show",
    "command_tune",
    "compare_configs",
]
