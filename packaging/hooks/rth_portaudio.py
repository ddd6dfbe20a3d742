"""Runtime hook: make sounddevice load the PortAudio library shipped inside the bundle.

On Linux the sounddevice wheel has no PortAudio of its own and asks ``ctypes.util.find_library``,
which only knows the system's libraries. The bundle carries ``libportaudio.so.2``; point the
lookup at it so the app plays sound on a machine without the system package.
"""

import ctypes.util
import os
import sys

_bundle = getattr(sys, "_MEIPASS", None)
_bundled_portaudio = os.path.join(_bundle, "libportaudio.so.2") if _bundle else None

if _bundled_portaudio and os.path.isfile(_bundled_portaudio):
    _system_find_library = ctypes.util.find_library

    def _find_library(name):
        if name == "portaudio":
            return _bundled_portaudio
        return _system_find_library(name)

    ctypes.util.find_library = _find_library
