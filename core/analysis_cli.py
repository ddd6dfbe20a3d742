"""The analysis sub-commands (``celae classify train|eval|predict``, ``celae cluster``,
``celae report``): the plain ``run_*`` functions, and the ``args``-taking adapters that
``core.cli_commands`` calls. Results have ``as_dict()`` (``--json``) and ``text()``.
"""

from __future__ import annotations

from core.analysis_classify import (
    BASELINES,
    DEFAULT_HEAD,
    ClassifyEvalResult,
    ClassifyTrainResult,
    PredictResult,
    default_classifier_dir,
    run_classify_eval,
    run_classify_predict,
    run_classify_train,
)
from core.analysis_cluster import ClusterResult, ReportResult, run_cluster, run_report

__all__ = ["BASELINES", "DEFAULT_HEAD", "ClassifyEvalResult", "ClassifyTrainResult",
           "ClusterResult", "PredictResult", "ReportResult", "classify_eval",
           "classify_predict", "classify_train", "cluster", "default_classifier_dir", "report",
           "run_classify_eval", "run_classify_predict", "run_classify_train", "run_cluster",
           "run_report"]


# ---------------------------------------------------------------- argparse adapters

def _bar(args, label: str):
    from core.cli_progress import ProgressBar

    return ProgressBar(label, quiet=getattr(args, "quiet", False))


def classify_train(args) -> ClassifyTrainResult:
    """``celae classify train DATA [--model AE] --out CLF``."""
    bar = _bar(args, "training ")
    try:
        return run_classify_train(args.data, args.model, args.out, epochs=args.epochs,
                                  head=args.head or DEFAULT_HEAD, seed=args.seed,
                                  device=args.device, max_clips=args.max_clips, on_progress=bar)
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
