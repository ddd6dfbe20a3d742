"""A host with nothing but numpy and onnxruntime: runs an export folder's graphs on a WAV clip.

Run as ``python -I -S onnx_host.py SITE_DIR EXPORT_DIR IN.wav OUT.npy``: no site hooks, no
environment, only ``SITE_DIR`` (where numpy and onnxruntime are installed) on the path, and every
import outside the standard library, numpy and onnxruntime refused, so the export cannot lean on
torch or on this project.
"""

import sys

sys.path.append(sys.argv[1])

ALLOWED = {"numpy", "onnxruntime"}


class _OnlyNumpyAndOnnxruntime:
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in ALLOWED or top in sys.stdlib_module_names:
            return None
        raise ImportError(f"{name} is not available to this host")


sys.meta_path.insert(0, _OnlyNumpyAndOnnxruntime())

import json  # noqa: E402
import wave  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402


def main(folder: str, wav_in: str, out: str) -> None:
    manifest = json.loads((Path(folder) / "export.json").read_text())
    with wave.open(wav_in) as w:
        assert w.getframerate() == manifest["sample_rate"] and w.getsampwidth() == 2
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    # What `celae reconstruct` feeds the model: the file's samples, peak-normalised.
    x = pcm.astype(np.float32) / np.float32(32768)
    x /= np.float32(np.abs(x).max())
    enc = ort.InferenceSession(str(Path(folder) / manifest["encoder"]["file"]))
    dec = ort.InferenceSession(str(Path(folder) / manifest["decoder"]["file"]))
    z = enc.run(None, {"audio": x[None, None]})[0]
    y = dec.run(None, {"latent": z, "length": np.array(x.size, dtype=np.int64)})[0]
    np.save(out, y[0, 0])
    outside = sorted({m.partition(".")[0] for m in sys.modules} - ALLOWED - {"__main__"}
                     - set(sys.stdlib_module_names))
    print(json.dumps({"latent_shape": list(z.shape), "outside_imports": outside}))


if __name__ == "__main__":
    main(*sys.argv[2:5])
