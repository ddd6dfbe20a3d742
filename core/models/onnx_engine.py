"""Running a model folder through onnxruntime, with no torch import once it is cached.

Importing torch costs 1.6 s on the reference machine, about half the budget of reconstructing a
7-minute song at 150x real time, and onnxruntime runs these small 1-D convolutions about twice
as fast as torch on the CPU. So the first use of a model folder loads it with the full checks of
:func:`core.models.io.load_model`, exports its ``forward`` (a batch of clip windows, encode then
decode) to ONNX and stores the graph in the cache under a key made of the exact bytes of
``config.json`` and the weights' SHA-256. Later uses hash the two files, find the graph and run
it without importing torch. A changed or replaced model gets a new key, so a stale graph is
never run. An ONNX file is a protobuf graph of standard operators: loading it runs no code.
The graph is the model's with a few layers in forms onnxruntime runs faster
(:mod:`core.models.fast_graph`: a 5 s window of the default codec in 31.5 ms instead of 42.1 on
one thread), equal to float rounding.

With several threads, the windows of a batch are run one by one on them, each run
single-threaded (onnxruntime releases the GIL while it runs): these small convolutions
parallelise better across windows than inside one (real windows of a 7-minute song through the
default 1/4 codec on two cores, three runs: 183-217x real time against 136-153x for one
two-threaded run), and one window a run keeps its tensors in the core's cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.atomic import atomic_path
from core.errors import ModelLoadError
from core.paths import bundled_models_dir, cache_dir, user_models_dir

EXPORT_VERSION = 2
"""Bumped when the export changes (a new graph is made for every cached model). 2: the graph of
:func:`core.models.fast_graph.swapped` (ELU and transposed convolutions in faster forms)."""

_MAX_CONFIG_BYTES = 16 * 1024 * 1024
_MAX_WEIGHTS_BYTES = 4 * 1024 ** 3


def available() -> bool:
    """Whether onnxruntime can be imported here."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class OnnxModel:
    """A model folder's ``forward`` as an onnxruntime session.

    Attributes
    ----------
    path : Path
        The model folder.
    arch : str
    clip_samples, sample_rate : int
    exported : bool
        True when this load made the graph (torch was imported for it).
    threads : int
        Windows of a batch run on up to this many threads at once.
    """

    path: Path
    arch: str
    clip_samples: int
    sample_rate: int
    exported: bool
    _session: object
    threads: int = 1
    _pool: ThreadPoolExecutor | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.path.name

    def __call__(self, first: int, windows: np.ndarray) -> np.ndarray:
        """Reconstruct windows ``[B, clip]`` (a :data:`core.models.streaming.WindowFn`)."""
        if len(windows) == 1:
            return self._run(np.ascontiguousarray(windows, dtype=np.float32)[:, None, :])
        return self.submit(first, windows)()

    def submit(self, first: int, windows: np.ndarray) -> Callable[[], np.ndarray]:
        """Start reconstructing windows ``[B, clip]`` on the engine's threads; the returned
        function waits for their output (``[B, clip]``) and gives it, or raises what the run
        raised. :func:`core.models.streaming.stream_song` keeps
        :data:`~core.models.streaming.AHEAD_BATCHES` batches going this way."""
        x = np.ascontiguousarray(windows, dtype=np.float32)[:, None, :]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="celae-onnx")
        # One window a run: a window's tensors stay in the core's cache (a 5 s window of the
        # default codec: 34 ms alone, 41 ms each in runs of two).
        futures = [self._pool.submit(self._run, x[i:i + 1]) for i in range(len(x))]
        return lambda: np.concatenate([f.result() for f in futures])

    def _run(self, x: np.ndarray) -> np.ndarray:
        return self._session.run(None, {"audio": np.ascontiguousarray(x)})[0][:, 0]


def _regular_file(path: Path, limit: int) -> int:
    try:
        st = os.stat(path)
    except OSError:
        return -1
    if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
        return -1
    return st.st_size


def _quick_folder(name_or_path: str | os.PathLike | None) -> Path | None:
    """The folder :func:`core.models.io.resolve_model` would find, for the plain cases only;
    None sends every other case (and its error message) to the full loader."""
    if name_or_path is None:
        marker = bundled_models_dir() / "DEFAULT"
        if _regular_file(marker, 4096) < 0:
            return None
        name = marker.read_text(encoding="utf-8").strip()
        folder = bundled_models_dir() / name if name else None
    else:
        path = Path(name_or_path)
        if path.is_dir():
            folder = path
        elif os.sep in str(name_or_path) or "/" in str(name_or_path) or path.exists():
            return None
        else:
            folder = next((root / str(name_or_path) for root in
                           (bundled_models_dir(), user_models_dir())
                           if (root / str(name_or_path)).is_dir()), None)
    if folder is None or not folder.is_dir():
        return None
    return folder


def _key(folder: Path) -> tuple[str, bytes] | None:
    cfg, weights = folder / "config.json", folder / "model.safetensors"
    if _regular_file(cfg, _MAX_CONFIG_BYTES) < 0 or _regular_file(weights,
                                                                  _MAX_WEIGHTS_BYTES) < 0:
        return None
    config = cfg.read_bytes()
    digest = hashlib.sha256()
    with open(weights, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    import onnxruntime

    key = hashlib.sha256(config + digest.hexdigest().encode()
                         + f"|{EXPORT_VERSION}|{onnxruntime.__version__}".encode())
    return key.hexdigest()[:32], config


def _export(folder: str | os.PathLike | None, target: Path) -> Path:
    import torch

    from core.models.fast_graph import swapped
    from core.models.io import load_model

    loaded = load_model(folder)
    model = swapped(loaded.model)
    example = torch.zeros(2, 1, model.clip_samples)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp, warnings.catch_warnings():
        # The exporter warns about the models' shape checks being traced as constants: the
        # graph is only ever run on [B, 1, clip] windows, where those checks hold.
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (example,), str(tmp), input_names=["audio"],
                          output_names=["out"], dynamic_axes={"audio": {0: "batch"},
                                                              "out": {0: "batch"}},
                          opset_version=17, dynamo=False)
    return loaded.path


def _session(path: Path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    # Spinning worker threads steal the core a decoder thread (or another program) needs.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime raises its own types for a damaged graph
        raise ModelLoadError(path, f"cannot load the cached ONNX graph ({err})") from None


def load_onnx(name_or_path: str | os.PathLike | None = None, *, threads: int = 1) -> OnnxModel:
    """A model folder (or name, as :func:`core.models.io.resolve_model`) ready to run.

    Parameters
    ----------
    name_or_path : str or path-like, optional
        None: the default bundled model.
    threads : int
        Windows run on this many threads at once (each run single-threaded).

    Raises
    ------
    ModelLoadError
        Whatever :func:`core.models.io.load_model` refuses (checked on first use), or a damaged
        cached graph.
    """
    folder = _quick_folder(name_or_path)
    keyed = _key(folder) if folder is not None else None
    exported = False
    if keyed is None:
        # Not a plain folder: the full loader finds it or says precisely what is wrong.
        folder = _export_folder(name_or_path)
        keyed = _key(folder)
        if keyed is None:
            raise ModelLoadError(folder, "model files changed while loading")
    key, config = keyed
    graph = cache_dir() / "onnx" / f"{key}.onnx"
    if _regular_file(graph, _MAX_WEIGHTS_BYTES) < 0:
        folder = _export(folder, graph)
        exported = True
    meta = json.loads(config)
    inner = meta.get("config", {})
    return OnnxModel(path=folder, arch=str(meta.get("arch", "")),
                     clip_samples=int(meta.get("clip_samples", inner.get("clip_samples"))),
                     sample_rate=int(meta.get("sample_rate", inner.get("sample_rate"))),
                     exported=exported, _session=_session(graph, 1),
                     threads=max(1, int(threads)))


def _export_folder(name_or_path: str | os.PathLike | None) -> Path:
    from core.models.io import load_model

    return load_model(name_or_path).path
