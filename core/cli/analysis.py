"""The analysis sub-commands (``celae classify train|eval|predict``, ``celae cluster``,
``celae report``): ``args``-taking adapters over :mod:`core.analysis`'s ``run_*`` functions,
called by :mod:`core.cli.commands`.
"""

from __future__ import annotations

from core.analysis import (
    BASELINES,
    DEFAULT_HEAD,
    ClassifyEvalResult,
    ClassifyTrainResult,
    ClusterResult,
    PredictResult,
    ReportResult,
    run_classify_eval,
    run_classify_predict,
    run_classify_train,
    run_cluster,
    run_report,
)

# ---------------------------------------------------------------- argparse adapters

def _bar(args, label: str):
    from core.cli.progress import ProgressBar

    return ProgressBar(label, quiet=getattr(args, "quiet", False))


def classify_train(args) -> ClassifyTrainResult:
    """``celae classify train DATA [--model AE] --out CLF``."""
    bar = _bar(args, "training ")
    try:
        return run_classify_train(args.data, args.model, args.out, epochs=args.epochs,
                                  head=args.head or DEFAULT_HEAD, seed=args.seed,
                                  device=args.device, max_clips=args.max_clips,
                                  trained_on=args.trained_on,
                                  clips_per_song=args.clips_per_song,
                                  members=args.members,
                                  baselines=() if args.no_baselines else BASELINES,
                                  on_progress=bar)
    finally:
        bar.close()


def classify_eval(args) -> ClassifyEvalResult:
    """``celae classify eval CLF DATA``."""
    bar = _bar(args, "evaluating ")
    try:
        return run_classify_eval(args.clf, args.data, device=getattr(args, "device", "auto"),
                                 on_progress=bar)
    finally:
        bar.close()


def classify_predict(args) -> PredictResult:
    """``celae classify predict CLF AUDIO``."""
    return run_classify_predict(args.clf, args.audio, device=getattr(args, "device", "auto"))


def cluster(args) -> ClusterResult:
    """``celae cluster DATA [--model AE]``."""
    bar = _bar(args, "clustering ")
    try:
        return run_cluster(args.data, args.model, seed=args.seed, max_clips=args.max_clips,
                           device=getattr(args, "device", "auto"), on_progress=bar)
    finally:
        bar.close()


def report(args) -> ReportResult:
    """``celae report DATA [--model AE] --out DIR``."""
    bar = _bar(args, "report ")
    try:
        return run_report(args.data, args.model, args.out, clf=getattr(args, "clf", None),
                          seed=args.seed, max_clips=args.max_clips,
                          device=getattr(args, "device", "auto"), on_progress=bar)
    finally:
        bar.close()
