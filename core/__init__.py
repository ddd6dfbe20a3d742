"""CELAE core: the GUI-free library behind CELAE Workbench (audio I/O, models, data,
training, analysis and the ``celae`` command line). Never imports Qt."""

__version__ = "0.1.0"
