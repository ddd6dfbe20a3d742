"""Exploring a model's latent: edits, principal directions and morphing.

Import the modules by name (``core.latent.edits``, ``core.latent.pca``, ``core.latent.morph``):
the edits are plain numpy, the others need torch.
"""
