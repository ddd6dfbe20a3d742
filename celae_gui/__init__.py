"""CELAE Workbench, the desktop app: Qt views over the GUI-free ``core`` library."""
