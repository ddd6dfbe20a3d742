"""Install the freely licensed Debian soundtracks and lay them out as a real_music dataset.

``make music`` runs this. It installs (apt-get, as root) the seven soundtrack packages the
project may use, and writes ``bench-out/real_music/``::

    train/<package>/<track>    one folder per package: a labelled dataset (style = package)
    valid/<package>/<track>
    test/<package>/<track>     held out by whole track, never seen in training
    split.json                 every track's side, source file, licence and authors
    SOURCES.md                 the music, its authors and licences, for model notes

Tracks are split by whole track within each package (seeded), so no song straddles two sides.
Plain audio files are symbolic links to the installed package files; tracks inside Quake-style
``.pk3`` archives are extracted, and headerless 8-bit PCM is wrapped as WAV, into the hidden
``.sources/`` folder beside the split. The audio stays under ``bench-out/`` (never committed).

Licences (read from each ``/usr/share/doc/PKG/copyright`` and the packages' own licence files;
every one allows training on the music): see :data:`PACKAGES`. ``fb-music-high`` holds a single
tracker module (``.xm``) that nothing here can render, so it is listed but left out.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import subprocess
import sys
import wave
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.atomic import atomic_write_text  # noqa: E402

SPLITS = ("train", "valid", "test")
XBLAST_RATE = 22050
"""Sample rate of xblast-tnt's headerless unsigned 8-bit mono songs (its sound server's)."""


@dataclass(frozen=True)
class Package:
    """One allowed soundtrack package: where its tracks are, who made them, under what licence."""

    name: str
    title: str
    files: tuple[str, ...]
    """Globs of plain audio files, or of ``.pk3`` archives / ``.raw`` PCM (see ``kind``)."""
    kind: str
    """``"audio"``, ``"pk3"`` (zip of OGG tracks) or ``"raw8"`` (unsigned 8-bit PCM)."""
    authors: str
    licence: str
    usable: bool = True
    note: str = ""


PACKAGES = (
    Package("warzone2100-music", "Warzone 2100 soundtracks (original, legacy, Aftermath)",
            ("/usr/share/games/warzone2100/music/albums/*/*.opus",
             "/usr/share/games/warzone2100/music/albums/*/*.ogg"), "audio",
            "Martin Severn (original soundtrack), LupusMechanicus (Aftermath soundtrack), "
            "Warzone 2100 Project",
            "GPL-2+ (Aftermath soundtrack: CC-BY-SA-3.0 or later, or GPL-2+)"),
    Package("wesnoth-1.16-music", "The Battle for Wesnoth 1.16 music",
            ("/usr/share/games/wesnoth/1.16/data/core/music/*.ogg",), "audio",
            "David White and the Battle for Wesnoth contributors", "GPL-2+"),
    Package("ufoai-music", "UFO: Alien Invasion music",
            ("/usr/share/games/ufoai/base/0music.pk3",), "pk3",
            "The UFO:AI Team: Manuel \"Vanethian\" Marino, Gren, David Reeves, azrael1322, "
            "Karl Macklin, Crystan, Marine and others (per file in the copyright file)",
            "GPL-2+, CC-BY-3.0 or CC-BY-SA-3.0 (per file, see the package's copyright file)"),
    Package("nexuiz-music", "Nexuiz soundtrack",
            ("/usr/share/games/nexuiz/data/music.pk3",), "pk3",
            "Alientrap, Lee Vermeulen and the Nexuiz contributors", "GPL-2+"),
    Package("planetblupi-music-ogg", "Planet Blupi music",
            ("/usr/share/planetblupi/music/*.ogg",), "audio",
            "Daniel Roux, EPSITEC SA, Denis Dumoulin, Mathieu Schroeter", "GPL-3+"),
    Package("xblast-tnt-musics", "XBlast TNT songs",
            ("/usr/share/games/xblast-tnt/sounds/xbsng*.raw",), "raw8",
            "Oliver Vogel and the XBlast contributors", "GPL-2"),
    Package("fb-music-high", "Frozen Bubble music (high quality)",
            ("/usr/share/games/frozen-bubble/snd/*.xm",), "module",
            "Matthias Le Bidan", "GPL-2+", usable=False,
            note="a single tracker module (.xm): no renderer here, and one track cannot be "
                 "split by track"),
)


def log(msg: str) -> None:
    print(f"music: {msg}", flush=True)


def install(packages: list[str]) -> None:
    """apt-get install the packages that are not installed yet."""
    missing = [p for p in packages if subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True
    ).stdout.strip() != "install ok installed"]
    if not missing:
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    log(f"installing {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                           *missing], check=True, env=env, stdout=subprocess.DEVNULL)


def _track_name(path: Path, package: Package) -> str:
    # Warzone's albums reuse file names (track1 in several albums): keep the album.
    if package.name == "warzone2100-music":
        return f"{path.parent.name}-{path.stem}"
    return path.stem


def materialise(package: Package, sources: Path) -> list[tuple[str, Path, str]]:
    """The package's tracks as ``(track name, playable file, origin)``, extracting if needed."""
    found = sorted({Path(p) for g in package.files for p in glob.glob(g)})
    tracks: list[tuple[str, Path, str]] = []
    if package.kind == "audio":
        return [(_track_name(p, package), p, str(p)) for p in found]
    out = sources / package.name
    out.mkdir(parents=True, exist_ok=True)
    for archive in found:
        if package.kind == "pk3":
            with zipfile.ZipFile(archive) as z:
                for member in sorted(z.namelist()):
                    if not member.lower().endswith(".ogg"):
                        continue
                    target = out / Path(member).name
                    if not target.exists() or target.stat().st_size != z.getinfo(member).file_size:
                        tmp = target.with_suffix(".part")
                        tmp.write_bytes(z.read(member))
                        os.replace(tmp, target)
                    tracks.append((target.stem, target, f"{archive}:{member}"))
        elif package.kind == "raw8":
            target = out / f"{archive.stem}.wav"
            if not target.exists():
                pcm = np.fromfile(archive, dtype=np.uint8)
                tmp = target.with_suffix(".part")
                with wave.open(str(tmp), "wb") as w:
                    w.setnchannels(1)
                    w.setsampwidth(1)  # WAV's 8-bit PCM is unsigned, as these files are
                    w.setframerate(XBLAST_RATE)
                    w.writeframes(pcm.tobytes())
                os.replace(tmp, target)
            tracks.append((archive.stem, target, str(archive)))
    return tracks


def split_tracks(names: list[str], seed: int, share: float) -> dict[str, str]:
    """Each track's side: ``share`` of the tracks each to valid and test (at least one each
    when there are three or more), the rest to train; seeded by the package's name."""
    digest = hashlib.sha256(f"{seed}:{len(names)}:{sorted(names)}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    order = [names[i] for i in rng.permutation(len(names))]
    n_hold = max(1, round(share * len(names))) if len(names) >= 3 else 0
    sides = {}
    for i, name in enumerate(order):
        sides[name] = "test" if i < n_hold else "valid" if i < 2 * n_hold else "train"
    return sides


def build(out: Path, *, seed: int, share: float) -> dict:
    sources = out / ".sources"
    for side in SPLITS:
        for package in PACKAGES:
            folder = out / side / package.name
            if folder.is_dir():
                for entry in folder.iterdir():
                    entry.unlink()
    entries, packages = [], []
    for package in PACKAGES:
        info = {"package": package.name, "title": package.title, "authors": package.authors,
                "licence": package.licence,
                "copyright_file": f"/usr/share/doc/{package.name}/copyright",
                "used": package.usable}
        if package.note:
            info["note"] = package.note
        packages.append(info)
        if not package.usable:
            log(f"{package.name}: left out ({package.note})")
            continue
        tracks = materialise(package, sources)
        sides = split_tracks([t[0] for t in tracks], seed, share)
        counts = dict.fromkeys(SPLITS, 0)
        for name, path, origin in tracks:
            side = sides[name]
            folder = out / side / package.name
            folder.mkdir(parents=True, exist_ok=True)
            link = folder / f"{name}{path.suffix.lower()}"
            target = path if path.is_absolute() else path.resolve()
            os.symlink(os.path.relpath(target, folder) if target.is_relative_to(out)
                       else target, link)
            counts[side] += 1
            entries.append({"track": name, "package": package.name, "split": side,
                            "file": str(link.relative_to(out)), "source": origin})
        info["tracks"] = counts
        log(f"{package.name}: " + ", ".join(f"{counts[s]} {s}" for s in SPLITS))
    return {"seed": seed, "held_out_share": share, "packages": packages, "tracks": entries}


def sources_note(split: dict) -> str:
    lines = ["# Music the bundled real music models were trained on", "",
             "Debian packages (installed by `make music`, laid out by `scripts/music_corpus.py`; "
             "the audio is not part of this project). Trained on the `train` side of "
             "`bench-out/real_music/split.json` only.", ""]
    for p in split["packages"]:
        if not p["used"]:
            lines.append(f"- `{p['package']}` ({p['title']}): not used ({p['note']}).")
            continue
        lines.append(f"- `{p['package']}`: {p['title']}. Authors: {p['authors']}. Licence: "
                     f"{p['licence']} (see {p['copyright_file']}).")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "bench-out" / "real_music"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--held-out-share", type=float, default=0.15,
                    help="share of each package's tracks for valid and for test (default 0.15)")
    ap.add_argument("--no-install", action="store_true", help="use what is installed")
    args = ap.parse_args(argv)
    if not args.no_install:
        install([p.name for p in PACKAGES])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    split = build(out, seed=args.seed, share=args.held_out_share)
    atomic_write_text(out / "split.json", json.dumps(split, indent=1) + "\n")
    atomic_write_text(out / "SOURCES.md", sources_note(split))
    n = {s: sum(t["split"] == s for t in split["tracks"]) for s in SPLITS}
    log(f"{out}: " + ", ".join(f"{n[s]} {s} tracks" for s in SPLITS))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
