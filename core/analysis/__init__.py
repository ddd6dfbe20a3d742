"""Analysis of a model's latent: genre classification and clustering commands, evaluation against
the no-learning baseline, and HTML reports.

The ``run_*`` functions are the API both front ends call (the command line through
:mod:`core.cli.analysis`, the app through its workers). Results have ``as_dict()`` and ``text()``.
"""

from core.analysis.classify import (
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
from core.analysis.cluster import ClusterResult, run_cluster
from core.analysis.report import ReportResult, run_report

__all__ = ["BASELINES", "DEFAULT_HEAD", "ClassifyEvalResult", "ClassifyTrainResult",
           "ClusterResult", "PredictResult", "ReportResult", "default_classifier_dir",
           "run_classify_eval", "run_classify_predict", "run_classify_train", "run_cluster",
           "run_report"]
