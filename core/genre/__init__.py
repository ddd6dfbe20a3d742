"""Genre classification on a frozen encoder: the classifier model (:mod:`core.genre.model`), its
training loop (:mod:`core.genre.fit`), classifier folders on disk (:mod:`core.genre.files`), the
latent probe with its mel-CNN and MFCC baselines and their metrics (:mod:`core.genre.probe`),
multi-scale latent statistics (:mod:`core.genre.multiscale`) and temperature scaling
(:mod:`core.genre.calibration`).
"""
