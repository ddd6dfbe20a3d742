"""Playback: the A/B/C player over a sounddevice stream (:mod:`~celae_gui.playback.player`),
the controller that feeds it the state's sources (:mod:`~celae_gui.playback.control`), the
transport bar, and the short preview player of the analysis map and the morph dialog."""
