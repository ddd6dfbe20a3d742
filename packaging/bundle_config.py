"""What goes into the PyInstaller bundle, as plain data shared by ``celae.spec`` and the tests.

``tests/test_packaging.py`` checks :data:`EXCLUDES` against every import of ``core``,
``celae_gui`` and the entry scripts (and against what importing them pulls in at run time), so
an exclusion added here can never silently break a feature of the bundled app.
"""

from __future__ import annotations

APP_NAME = "celae-workbench"
"""Name of the bundle folder (``dist/celae-workbench/``) and of the app executable."""

CLI_NAME = "celae"
"""Name of the command-line executable, beside the app in the same folder."""

ENTRY_SCRIPTS = {APP_NAME: "entry_workbench.py", CLI_NAME: "entry_cli.py"}
"""Executable name -> entry script in ``packaging/`` (each calls ``freeze_support`` first)."""

FIRST_PARTY = ("core", "celae_gui")
"""Packages collected whole: both import many of their modules lazily, inside functions."""

HIDDEN_IMPORTS = (
    # Registered on import by core.models/__init__; listed so a lazy import cannot lose them.
    "core.models.cel",
    "core.models.codec",
    # torch.onnx imports onnx by name when `celae export` (or File > Export model...) runs.
    "onnx",
    "onnxruntime",
    # torchaudio loads its C++ ops by path; the transforms and the GTZAN split are lazy imports.
    "torchaudio.lib",
    "torchaudio.transforms",
    "torchaudio.functional",
    "torchaudio.datasets.gtzan",
    # libsndfile ships inside this package of the soundfile wheel.
    "_soundfile_data",
    # pyqtgraph picks its Qt binding at run time, by name.
    "PySide6.QtSvg",
    "PySide6.QtOpenGL",
    "PySide6.QtOpenGLWidgets",
    "PySide6.QtTest",
)
"""Modules PyInstaller's import analysis misses (imported by name or loaded by path)."""

EXCLUDES = (
    # Compilers and trackers torch can use but this app never does (torch.compile, TensorBoard).
    # Not sympy: every torch.optim optimizer imports torch._dynamo, which needs it.
    "triton",
    "tensorboard",
    "torch.utils.tensorboard",
    # Test and development tools.
    "pytest",
    "_pytest",
    "pytestqt",
    "pytest_timeout",
    "hypothesis",
    "importlinter",
    "grimp",
    "ruff",
    "PyInstaller",
    "IPython",
    "jupyter_client",
    "ipykernel",
    # Other GUI toolkits and plotting stacks.
    "tkinter",
    "_tkinter",
    "matplotlib",
    "PyQt5",
    "PyQt6",
    "PySide2",
    # Qt modules the app and pyqtgraph never load (each pulls in its own Qt libraries).
    "PySide6.QtNetwork",
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtQuickWidgets",
    "PySide6.QtQuickControls2",
    "PySide6.QtQuick3D",
    "PySide6.QtWebEngineCore",
    "PySide6.QtWebEngineWidgets",
    "PySide6.QtWebEngineQuick",
    "PySide6.QtWebChannel",
    "PySide6.QtWebSockets",
    "PySide6.QtMultimedia",
    "PySide6.QtMultimediaWidgets",
    "PySide6.QtSql",
    "PySide6.QtXml",
    "PySide6.QtDesigner",
    "PySide6.QtHelp",
    "PySide6.QtUiTools",
    "PySide6.QtPdf",
    "PySide6.QtPdfWidgets",
    "PySide6.QtCharts",
    "PySide6.QtDataVisualization",
    "PySide6.QtGraphs",
    "PySide6.Qt3DCore",
    "PySide6.Qt3DRender",
    "PySide6.QtBluetooth",
    "PySide6.QtPositioning",
    "PySide6.QtLocation",
    "PySide6.QtSerialPort",
    "PySide6.QtRemoteObjects",
    "PySide6.QtScxml",
    "PySide6.QtTextToSpeech",
    "PySide6.QtConcurrent",
    "PySide6.QtDBus",
)
"""Modules left out of the bundle (a module and all of its sub-modules)."""
