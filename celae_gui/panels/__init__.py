"""The panels around the plots: library, model selector, latent edits, principal directions,
quality figures and genre bars."""
