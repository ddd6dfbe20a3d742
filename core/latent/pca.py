"""Principal directions of a model's latent space, fitted on its training clips and kept with it.

A latent ``[C, L]`` is a sequence of frames. PCA is fitted on frame *vectors*, pooled over every
frame of every training clip: each vector is ``g`` consecutive frames of all ``C`` channels,
flattened channel-major (``z[:, b*g:(b+1)*g].reshape(C*g)``). A codec latent (C >= 8) uses
single frames; narrower latents use blocks long enough to leave at least 8 directions once the
block means are removed (the report's ``C = 1`` models: blocks of 9 steps).

Moving a latent along a direction adds the same vector to every block, so the edit acts on the
whole clip and works for any ``L``. When a vector spans several frames (``g > 1``) the
block-constant directions (a channel's mean over the block) are removed before the fit: moving
along one shifts the whole latent channel, which the decoder turns into a DC offset of the
audio (a thump, and quiet passages pinned at full scale), not into a change of the music. A
PCA stored before that was done has those components dropped on load. Offsets are in units of
that component's standard deviation over the training frames: +1 moves a typical distance,
whatever the model's latent scale.

Stored beside the model as ``latent_pca.safetensors`` + ``latent_pca.json``
(:func:`core.tensorfile.save_tensors`): components, mean, per-component std, the explained-variance
curve and the number of components reaching 80/90/95/99 %.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.errors import ModelLoadError
from core.models.base import Autoencoder
from core.models.inference import encode
from core.models.io import WEIGHTS_NAME
from core.progress import Cancelled, ProgressFn, StopFn, never_stop, no_progress
from core.tensorfile import load_tensors, save_tensors, sha256_file

PCA_FILE = "latent_pca.safetensors"
MIN_DIMS = 8
THRESHOLDS = (0.80, 0.90, 0.95, 0.99)
PCA_FORMAT = 1


@dataclass(frozen=True)
class LatentPCA:
    """PCA of per-frame latent vectors.

    Attributes
    ----------
    components : np.ndarray[K, D]
        Unit principal directions, strongest first, ``D = channels * frames_per_vector``.
    mean : np.ndarray[D]
        Mean frame vector of the training latents.
    std : np.ndarray[K]
        Standard deviation of the training frames along each component.
    explained_variance_ratio : np.ndarray[K]
        Share of the total variance each component explains (sums to 1).
    channels : int
        Latent channels ``C`` the PCA was fitted for.
    frames_per_vector : int
        Consecutive latent frames ``g`` per vector.
    n_frames : int
        Frame vectors the PCA was fitted on.
    """

    components: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    explained_variance_ratio: np.ndarray
    channels: int
    frames_per_vector: int
    n_frames: int = 0

    @property
    def n_components(self) -> int:
        """Number of components ``K``."""
        return int(self.components.shape[0])

    @property
    def cumulative(self) -> np.ndarray:
        """Cumulative explained-variance curve ``np.ndarray[K]`` (last value 1)."""
        return np.cumsum(self.explained_variance_ratio)

    def n_for(self, fraction: float) -> int:
        """Fewest components whose cumulative explained variance reaches ``fraction``."""
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], not {fraction}")
        hits = np.nonzero(self.cumulative >= fraction - 1e-9)[0]
        return int(hits[0]) + 1 if hits.size else self.n_components

    @property
    def thresholds(self) -> dict[str, int]:
        """``{"80": n, "90": n, "95": n, "99": n}``: components needed for each share."""
        return {str(round(t * 100)): self.n_for(t) for t in THRESHOLDS}


def frames_per_vector(channels: int) -> int:
    """Latent frames ``g`` grouped in one PCA vector for ``channels`` latent channels: enough
    for ``MIN_DIMS`` directions once the ``C`` block-mean ones are removed (``g > 1``)."""
    g = math.ceil(MIN_DIMS / int(channels))
    return 1 if g <= 1 else g + 1


def frame_vectors(z: np.ndarray, g: int) -> np.ndarray:
    """Cut latents into PCA vectors.

    Parameters
    ----------
    z : np.ndarray[C, L] or np.ndarray[N, C, L]
    g : int
        Frames per vector; a last incomplete block is dropped.

    Returns
    -------
    np.ndarray[M, C * g]
        float64 vectors, ``M = N * (L // g)``.
    """
    arr = np.asarray(z, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise ValueError(f"latents must be [C, L] or [N, C, L], got shape {arr.shape}")
    N, C, L = arr.shape
    nb = L // g
    blocks = arr[..., :nb * g].reshape(N, C, nb, g).transpose(0, 2, 1, 3)
    return blocks.reshape(N * nb, C * g)


def fit_pca_from_latents(latents: Iterable[np.ndarray]) -> LatentPCA:
    """Fit the PCA on batches of latents (streamed: only a ``D x D`` covariance is kept).

    Parameters
    ----------
    latents : iterable of np.ndarray[N, C, L]
        Training latents; every batch has the same ``C``.

    Returns
    -------
    LatentPCA

    Raises
    ------
    ValueError
        No frames at all, or batches with different channel counts.
    """
    s1 = s2 = None
    count = 0
    C = g = None
    for batch in latents:
        arr = np.asarray(batch)
        arr = arr[None] if arr.ndim == 2 else arr
        if C is None:
            C = int(arr.shape[1])
            g = frames_per_vector(C)
        elif arr.shape[1] != C:
            raise ValueError(f"latents with {arr.shape[1]} channels after {C}")
        v = frame_vectors(arr, g)
        s1 = v.sum(0) if s1 is None else s1 + v.sum(0)
        s2 = v.T @ v if s2 is None else s2 + v.T @ v
        count += len(v)
    if C is None or count < 2:
        raise ValueError("PCA needs at least two latent frames")
    mean = s1 / count
    cov = (s2 - count * np.outer(mean, mean)) / (count - 1)
    if g > 1:
        keep = np.eye(C * g) - dc_basis(C, g).T @ dc_basis(C, g)
        cov = keep @ cov @ keep
    values, vectors = np.linalg.eigh(cov)
    order = np.argsort(values)[::-1]
    values = np.clip(values[order], 0.0, None)
    vectors = vectors[:, order].T
    # A sign convention, so refits of the same data give the same slider directions.
    signs = np.sign(vectors[np.arange(len(vectors)), np.abs(vectors).argmax(1)])
    vectors = vectors * np.where(signs == 0, 1.0, signs)[:, None]
    total = values.sum()
    ratio = values / total if total > 0 else np.full_like(values, 1.0 / len(values))
    return without_dc(LatentPCA(components=vectors.astype(np.float32),
                                mean=mean.astype(np.float32),
                                std=np.sqrt(values).astype(np.float32),
                                explained_variance_ratio=ratio.astype(np.float64), channels=C,
                                frames_per_vector=g, n_frames=count))


def dc_basis(channels: int, g: int) -> np.ndarray:
    """Orthonormal rows ``[C, C * g]``: for each channel, its mean over a block of ``g`` frames
    (the directions that shift a whole latent channel, see the module docstring)."""
    basis = np.zeros((channels, channels * g))
    for c in range(channels):
        basis[c, c * g:(c + 1) * g] = 1.0 / math.sqrt(g)
    return basis


def dc_share(pca: LatentPCA) -> np.ndarray:
    """Share ``[K]`` of each component's length that lies along :func:`dc_basis` (0 when the
    vectors are single frames, which have no block mean)."""
    if pca.frames_per_vector <= 1:
        return np.zeros(pca.n_components)
    along = pca.components.astype(np.float64) @ dc_basis(pca.channels, pca.frames_per_vector).T
    return (along ** 2).sum(1)


def without_dc(pca: LatentPCA, max_share: float = 0.5) -> LatentPCA:
    """``pca`` without the components that mostly shift a latent channel (explained variance
    renormalised over the rest)."""
    keep = dc_share(pca) <= max_share
    if keep.all() or not keep.any():
        return pca
    ratio = pca.explained_variance_ratio[keep]
    ratio = ratio / ratio.sum() if ratio.sum() > 0 else ratio
    return LatentPCA(components=pca.components[keep], mean=pca.mean, std=pca.std[keep],
                     explained_variance_ratio=ratio, channels=pca.channels,
                     frames_per_vector=pca.frames_per_vector, n_frames=pca.n_frames)


def fit_latent_pca(model: Autoencoder, clips: np.ndarray, *, batch_size: int = 16,
                   on_progress: ProgressFn | None = None,
                   should_stop: StopFn | None = None) -> LatentPCA:
    """Encode ``clips`` with ``model`` and fit the PCA of their frames.

    Parameters
    ----------
    model : Autoencoder
    clips : np.ndarray[N, T]
        Training clips (float32, or int16 as a ClipSet holds them).
    batch_size : int
    on_progress, should_stop : callables, optional

    Returns
    -------
    LatentPCA

    Raises
    ------
    core.progress.Cancelled
        ``should_stop()`` returned True.
    """
    on_progress = on_progress or no_progress
    should_stop = should_stop or never_stop
    arr = np.asarray(clips)
    n = len(arr)

    def batches() -> Iterable[np.ndarray]:
        for a in range(0, n, batch_size):
            if should_stop():
                raise Cancelled()
            chunk = arr[a:a + batch_size]
            if chunk.dtype == np.int16:
                chunk = chunk.astype(np.float32) / 32768.0
            yield encode(model, np.asarray(chunk, dtype=np.float32), batch_size=batch_size)
            on_progress(min(1.0, (a + batch_size) / n), "fitting latent PCA")

    return fit_pca_from_latents(batches())


def directions(pca: LatentPCA, latent_shape: tuple[int, int], k: int | None = None
               ) -> np.ndarray:
    """Principal directions laid out as latents, one standard deviation long.

    Parameters
    ----------
    pca : LatentPCA
    latent_shape : (C, L)
        Shape of the latent to edit.
    k : int, optional
        Number of directions (default all).

    Returns
    -------
    np.ndarray[k, C, L]
        ``z + a * out[i]`` moves ``z`` by ``a`` standard deviations along component ``i``
        (the ``directions`` argument of :func:`core.latent.edits.apply_edits`).
    """
    C, L = int(latent_shape[0]), int(latent_shape[1])
    if pca.channels != C:
        raise ValueError(f"PCA was fitted on {pca.channels}-channel latents, not {C}")
    k = pca.n_components if k is None else min(int(k), pca.n_components)
    g = pca.frames_per_vector
    steps = pca.components[:k] * pca.std[:k, None]
    blocks = steps.reshape(k, C, g)
    reps = math.ceil(L / g)
    return np.tile(blocks, (1, 1, reps))[..., :L].astype(np.float32)


def apply_pc_offsets(z: np.ndarray, pca: LatentPCA, offsets_in_std) -> np.ndarray:
    """Move a latent along the top principal directions.

    Parameters
    ----------
    z : np.ndarray[C, L] or np.ndarray[N, C, L]
    pca : LatentPCA
    offsets_in_std : sequence of float
        Offset along components 0, 1, ... in standard deviations (at most ``K`` values).

    Returns
    -------
    np.ndarray, same shape as ``z``
        float32; ``z`` is not modified.
    """
    out = np.array(z, dtype=np.float32, copy=True)
    offsets = np.asarray(offsets_in_std, dtype=np.float32).reshape(-1)
    if offsets.size > pca.n_components:
        raise ValueError(f"{offsets.size} offsets for a PCA of {pca.n_components} components")
    if offsets.size == 0 or not offsets.any():
        return out
    dirs = directions(pca, out.shape[-2:], offsets.size)
    return out + np.tensordot(offsets, dirs, axes=1)


def project(pca: LatentPCA, z: np.ndarray, k: int = 2) -> np.ndarray:
    """Coordinates of latents on the top ``k`` components, averaged over frames, in std units.

    One point per clip: what a 2-D map of a data set plots.

    Parameters
    ----------
    z : np.ndarray[N, C, L]
    k : int

    Returns
    -------
    np.ndarray[N, k]
    """
    arr = np.asarray(z, dtype=np.float64)
    arr = arr[None] if arr.ndim == 2 else arr
    N = arr.shape[0]
    v = frame_vectors(arr, pca.frames_per_vector).reshape(N, -1, pca.components.shape[1])
    k = min(int(k), pca.n_components)
    coords = (v.mean(1) - pca.mean) @ pca.components[:k].T.astype(np.float64)
    return (coords / np.maximum(pca.std[:k], 1e-12)).astype(np.float32)


def _weights_digest(model_folder: Path) -> str | None:
    path = model_folder / WEIGHTS_NAME
    return sha256_file(path) if path.is_file() else None


def save_latent_pca(pca: LatentPCA, model_folder: str | os.PathLike) -> Path:
    """Write ``pca`` into a model folder as ``latent_pca.safetensors`` + ``.json``; return the path.

    The JSON meta holds the explained-variance curve and the 80/90/95/99 % component counts, so
    they can be read without loading tensors, and the checksum of the model's weights, so a PCA
    left behind by an earlier model saved to the same folder is not used with the new one.
    """
    tensors = {
        "components": torch.from_numpy(np.ascontiguousarray(pca.components)),
        "mean": torch.from_numpy(np.ascontiguousarray(pca.mean)),
        "std": torch.from_numpy(np.ascontiguousarray(pca.std)),
        "explained_variance_ratio": torch.from_numpy(
            np.ascontiguousarray(pca.explained_variance_ratio)),
    }
    meta = {"format": PCA_FORMAT, "channels": pca.channels,
            "frames_per_vector": pca.frames_per_vector, "n_frames": pca.n_frames,
            "explained_variance_ratio": [float(v) for v in pca.explained_variance_ratio],
            "components_for": pca.thresholds,
            "weights_sha256": _weights_digest(Path(model_folder))}
    return save_tensors(Path(model_folder) / PCA_FILE, tensors, meta)


def load_latent_pca(model_folder: str | os.PathLike) -> LatentPCA | None:
    """Read the PCA stored in a model folder.

    Returns ``None`` if the folder has no PCA, or one fitted for other weights (the model was
    retrained into the folder since; refit it).

    Raises
    ------
    ModelLoadError
        The files exist but are corrupt, inconsistent or of an unknown format.
    """
    path = Path(model_folder) / PCA_FILE
    if not path.exists():
        return None
    tensors, meta = load_tensors(path)
    fitted_for = meta.get("weights_sha256")
    if fitted_for is not None and fitted_for != _weights_digest(Path(model_folder)):
        return None
    try:
        if meta.get("format") != PCA_FORMAT:
            raise ValueError(f"unknown PCA format {meta.get('format')!r}")
        comps = tensors["components"].numpy()
        C, g = int(meta["channels"]), int(meta["frames_per_vector"])
        K, D = comps.shape
        pca = LatentPCA(components=comps, mean=tensors["mean"].numpy(),
                        std=tensors["std"].numpy(),
                        explained_variance_ratio=tensors["explained_variance_ratio"].numpy(),
                        channels=C, frames_per_vector=g, n_frames=int(meta.get("n_frames", 0)))
        if C * g != D or pca.mean.shape != (D,) or pca.std.shape != (K,) \
                or pca.explained_variance_ratio.shape != (K,):
            raise ValueError("tensor shapes do not match")
    except (KeyError, ValueError, TypeError) as err:
        raise ModelLoadError(path, f"not a valid latent PCA ({err})") from None
    return without_dc(pca)
