"""Dialogs and secondary windows: training, classifier training (both on the shared run dialog),
analysis, morphing, about."""
