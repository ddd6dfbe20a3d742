"""The one latent file format: everything needed to decode a song's latent exactly.

A ``.celat`` file is a single safetensors file. Its tensors are the latent ``[N, C, L]`` of the
song's overlapping windows (float32, float16 or uint8 codes, see :mod:`core.latent.quantize`)
and, at 8 bits, the per-channel ``offset`` and ``scale``. Its safetensors metadata holds one JSON
document (``"celae"``)::

    {"format": "celae-latent", "version": 1, "bits": 8,
     "model": {"name": "celae-silu-demo", "arch": "CELAutoencoderSiLU", "weights_sha256": "..."},
     "sample_rate": 22050, "window": 110250, "hop": 99225, "length": 271215,
     "edits": {...}, "source": "song.mp3"}

``window`` and ``hop`` place the windows on the song and ``length`` cuts the decoded song back
to the original number of samples, so decoding with :func:`core.models.inference.decode_song`
gives the audio the writer heard. The latent is stored *after* the edits named in ``edits`` (a
record of what was done, not something to apply again). One file, no sidecar: writing it can
never overwrite a neighbouring file.

Files of the older command line (``z.npy`` with ``z.json`` beside it: non-overlapping clips)
are read too, by :func:`load_latent`.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.atomic import atomic_path
from core.errors import FileError
from core.latent.quantize import Quantized, check_bits, dequantize, quantize

SUFFIX = ".celat"
FORMAT = "celae-latent"
VERSION = 1
MAX_HEADER_BYTES = 1 << 20
MAX_FILE_BYTES = 4 << 30
_DTYPES = {"F32": np.float32, "F16": np.float16, "U8": np.uint8}


class LatentFileError(FileError):
    """A latent file that cannot be read or does not fit."""


@dataclass(frozen=True)
class ModelRef:
    """Which model wrote a latent: its name, architecture and weights checksum."""

    name: str
    arch: str
    weights_sha256: str = ""


@dataclass(frozen=True)
class LatentFile:
    """A song's latent with its layout and provenance.

    Attributes
    ----------
    z : np.ndarray[N, C, L]
        float32 latents of the windows, in order, edits already applied.
    length : int
        Samples of the original song.
    window, hop : int
        Window length and the samples between window starts.
    sample_rate : int
    model : ModelRef
    edits : dict
        The edits that were applied (for the record).
    source : str
        File name of the song it came from.
    bits : int
        Bits per value it is (or was) stored at.
    """

    z: np.ndarray
    length: int
    window: int
    hop: int
    sample_rate: int
    model: ModelRef
    edits: dict = field(default_factory=dict)
    source: str = ""
    bits: int = 32

    def song_latent(self):
        """The :class:`core.models.inference.SongLatent` to decode."""
        from core.models.inference import SongLatent

        return SongLatent(z=self.z, length=self.length, clip_samples=self.window, hop=self.hop)


def _meta(lf: LatentFile, bits: int) -> dict:
    return {"format": FORMAT, "version": VERSION, "bits": bits,
            "model": {"name": lf.model.name, "arch": lf.model.arch,
                      "weights_sha256": lf.model.weights_sha256},
            "sample_rate": int(lf.sample_rate), "window": int(lf.window), "hop": int(lf.hop),
            "length": int(lf.length), "shape": list(np.shape(lf.z)), "edits": lf.edits,
            "source": lf.source}


def _check_layout(z: np.ndarray, length: int, window: int, hop: int) -> None:
    if z.ndim != 3 or 0 in z.shape:
        raise ValueError(f"expected latents [windows, channels, frames], got {z.shape}")
    if not 0 < hop <= window or length <= 0:
        raise ValueError(f"bad layout: window {window}, hop {hop}, length {length}")
    if (len(z) - 1) * hop + window < length:
        raise ValueError(f"{len(z)} windows of {window} samples (hop {hop}) do not cover "
                         f"{length} samples")


def save_latent(path: str | os.PathLike, lf: LatentFile, bits: int = 32) -> Path:
    """Write ``lf`` to ``path`` (a ``.celat`` file) at ``bits`` per value, atomically.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    LatentFileError
        The name does not end in ``.celat``, or the latent is not finite.
    """
    from safetensors.numpy import save_file

    path = Path(path)
    if path.suffix.lower() != SUFFIX:
        raise LatentFileError(path, f"a latent is written as a {SUFFIX} file: give a file name "
                                    f"ending in {SUFFIX}")
    bits = check_bits(bits)
    z = np.asarray(lf.z, dtype=np.float32)
    try:
        _check_layout(z, lf.length, lf.window, lf.hop)
        q = quantize(z, bits)
    except ValueError as err:
        raise LatentFileError(path, str(err)) from None
    tensors = {"latent": np.ascontiguousarray(q.data)}
    if q.offset is not None:
        tensors["offset"], tensors["scale"] = q.offset, q.scale
    meta = {"celae": json.dumps(_meta(lf, bits))}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=meta)
    return path


def _header(path: Path) -> tuple[dict, int]:
    try:
        st = path.stat()
        if not path.is_file():
            raise LatentFileError(path, "not a regular file")
        if st.st_size > MAX_FILE_BYTES:
            raise LatentFileError(path, f"{st.st_size} bytes is implausibly large for a latent")
        with open(path, "rb") as fh:
            head = fh.read(8)
            n = int.from_bytes(head, "little") if len(head) == 8 else -1
            if not 0 < n <= min(MAX_HEADER_BYTES, st.st_size - 8):
                raise LatentFileError(path, "not a latent file (no safetensors header)")
            header = json.loads(fh.read(n).decode("utf-8"))
    except FileNotFoundError:
        raise LatentFileError(path, "file not found") from None
    except OSError as err:
        raise LatentFileError(path, f"cannot read ({err.strerror or err})") from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise LatentFileError(path, "not a latent file (its header is not JSON)") from None
    if not isinstance(header, dict):
        raise LatentFileError(path, "not a latent file (its header is not a JSON object)")
    return header, 8 + n


def _read_tensors(path: Path, header: dict, start: int) -> dict[str, np.ndarray]:
    out = {}
    with open(path, "rb") as fh:
        for name in ("latent", "offset", "scale"):
            info = header.get(name)
            if info is None:
                continue
            try:
                dtype = _DTYPES[info["dtype"]]
                shape = tuple(int(d) for d in info["shape"])
                a, b = (int(o) for o in info["data_offsets"])
            except (KeyError, TypeError, ValueError):
                raise LatentFileError(path, f"tensor {name!r} has a malformed entry") from None
            if min(shape, default=1) < 0 or b - a != math.prod(shape) * np.dtype(dtype).itemsize:
                raise LatentFileError(path, f"tensor {name!r}: size does not match its shape")
            fh.seek(start + a)
            raw = fh.read(b - a)
            if len(raw) != b - a:
                raise LatentFileError(path, "truncated file")
            out[name] = np.frombuffer(raw, dtype=dtype).reshape(shape)
    return out


def _int(meta: dict, key: str, path: Path) -> int:
    v = meta.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise LatentFileError(path, f"{key!r} must be a positive integer, not {v!r}")
    return v


def _load_celat(path: Path) -> LatentFile:
    header, start = _header(path)
    try:
        meta = json.loads(header.get("__metadata__", {}).get("celae", ""))
    except (AttributeError, TypeError, ValueError, RecursionError):
        meta = None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise LatentFileError(path, "not a CELAE latent file (no celae-latent description)")
    if meta.get("version") != VERSION:
        raise LatentFileError(path, f"latent format version {meta.get('version')!r} is not "
                                    f"supported (this version reads {VERSION})")
    tensors = _read_tensors(path, header, start)
    if "latent" not in tensors:
        raise LatentFileError(path, "the file holds no latent")
    try:
        bits = check_bits(meta.get("bits"))
        q = Quantized(tensors["latent"], bits, tensors.get("offset"), tensors.get("scale"))
        if bits == 8 and (q.offset is None or q.scale is None):
            raise ValueError("8-bit latent without its offset and scale")
        z = dequantize(q)
    except (ValueError, TypeError, AttributeError) as err:
        raise LatentFileError(path, f"unreadable latent ({err})") from None
    if not np.isfinite(z).all():
        raise LatentFileError(path, "the latent holds NaN or infinite values")
    model = meta.get("model") if isinstance(meta.get("model"), dict) else {}
    lf = LatentFile(z=z, length=_int(meta, "length", path), window=_int(meta, "window", path),
                    hop=_int(meta, "hop", path), sample_rate=_int(meta, "sample_rate", path),
                    model=ModelRef(str(model.get("name", "")), str(model.get("arch", "")),
                                   str(model.get("weights_sha256", ""))),
                    edits=meta.get("edits") if isinstance(meta.get("edits"), dict) else {},
                    source=str(meta.get("source", "")), bits=bits)
    try:
        _check_layout(z, lf.length, lf.window, lf.hop)
    except ValueError as err:
        raise LatentFileError(path, str(err)) from None
    return lf


def _load_npy(path: Path) -> LatentFile:
    """The older command line's ``.npy`` latent of non-overlapping clips, with its sidecar."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES or not path.is_file():
            raise LatentFileError(path, "not a regular latent .npy file")
        z = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise LatentFileError(path, "file not found") from None
    except (ValueError, OSError, EOFError) as exc:
        raise LatentFileError(path, f"not a latent .npy file ({exc})") from None
    if z.dtype.kind != "f" or z.ndim not in (2, 3) or 0 in z.shape:
        raise LatentFileError(path, f"expected a float array [clips, channels, frames], got "
                                    f"{z.dtype} {z.shape}")
    z = (z[None] if z.ndim == 2 else z).astype(np.float32)
    if not np.isfinite(z).all():
        raise LatentFileError(path, "the latent holds NaN or infinite values")
    meta: dict = {}
    side = path.with_suffix(".json")
    if side.is_file():
        try:
            if side.stat().st_size > MAX_HEADER_BYTES:
                raise ValueError("implausibly large")
            meta = json.loads(side.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError, OSError, RecursionError) as exc:
            raise LatentFileError(side, f"invalid JSON sidecar ({type(exc).__name__}: "
                                        f"{exc})") from None
        if not isinstance(meta, dict):
            raise LatentFileError(side, "invalid JSON sidecar (expected an object)")
    clip = meta.get("clip_samples")
    length = meta.get("length_samples")
    lf_meta = {"window": clip, "length": length, "sample_rate": meta.get("sample_rate", 22050)}
    for key in ("window", "length"):
        if lf_meta[key] is not None:
            _int(lf_meta, key, side)
    return LatentFile(z=z, length=length or 0, window=clip or 0, hop=clip or 0,
                      sample_rate=_int(lf_meta, "sample_rate", side),
                      model=ModelRef(Path(str(meta.get("model", ""))).name,
                                     str(meta.get("arch", ""))),
                      source=str(meta.get("source", "")))


def load_latent(path: str | os.PathLike) -> LatentFile:
    """Read a ``.celat`` file (or an older ``.npy`` + ``.json`` latent).

    An older ``.npy`` without a sidecar has ``window``, ``hop`` and ``length`` 0: the caller
    fills them in from the model (:func:`with_model_layout`).

    Raises
    ------
    LatentFileError
        Missing, truncated, oversized or malformed file, naming the file and the reason.
    """
    path = Path(path)
    if path.suffix.lower() == ".npy":
        return _load_npy(path)
    return _load_celat(path)


def with_model_layout(lf: LatentFile, clip_samples: int) -> LatentFile:
    """``lf`` with a missing window/hop/length taken from a model of ``clip_samples``."""
    if lf.window and lf.hop and lf.length:
        return lf
    window = lf.window or clip_samples
    length = lf.length or len(lf.z) * window
    return LatentFile(lf.z, length, window, lf.hop or window, lf.sample_rate, lf.model,
                      lf.edits, lf.source, lf.bits)
