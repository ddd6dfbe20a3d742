"""Training an autoencoder: the trainer (:mod:`core.training.trainer`), its configuration and
results (:mod:`core.training.config`), data preparation, the prefetching batch stream,
pickle-free checkpoints and DistributedDataParallel (``python -m core.training`` under torchrun).
"""

from core.training.config import EpochRecord, TrainConfig, TrainResult
from core.training.trainer import train

__all__ = ["EpochRecord", "TrainConfig", "TrainResult", "train"]
