"""Signal constants shared by every part of the project.

They live here, in the core, so that no module has to import a GUI or sound-device module just to
learn the sample rate.
"""

SAMPLE_RATE = 22_050
"""Sample rate of every model input and output, in Hz (the report's GTZAN rate)."""

CLIP_SECONDS = 5
"""Length of one model clip, in seconds."""

CLIP_SAMPLES = SAMPLE_RATE * CLIP_SECONDS
"""Samples in one clip: 110 250."""

AUDIO_EXTENSIONS = (".wav", ".mp3", ".flac", ".ogg", ".oga", ".opus", ".aif", ".aiff")
"""File suffixes treated as audio when a folder is scanned (lower case)."""

MODEL_FORMAT_VERSION = 1
"""Version of the on-disk model folder layout (``model.safetensors`` + ``config.json``)."""
