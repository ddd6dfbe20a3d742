"""Plot views: waveforms, spectrograms, the analysis window's confusion matrix and cluster map,
their shared pyqtgraph style, and the figures they show computed off the GUI thread."""
