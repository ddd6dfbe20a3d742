"""Genre classification on a frozen encoder: the classifier model (:mod:`core.genre.model`), its
training loop (:mod:`core.genre.fit`), classifier folders on disk (:mod:`core.genre.files`), and
the latent probe with its mel-CNN and MFCC baselines and their metrics (:mod:`core.genre.probe`).
"""
