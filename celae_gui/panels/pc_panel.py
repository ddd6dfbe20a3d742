"""Sliders along the top principal directions of the model's latent space, in standard
deviations, beside the edit sliders.

The model's PCA (``core.latent.pca``) is loaded in a worker when the model changes and published
as ``state.latent_pca``. Moving a slider writes ``EditParams.pc_offsets`` (one undo step per
drag), and the edit worker applies them with the other edits in the same pass. A model without a
stored PCA gets a "Fit latent PCA" button: the library's songs or a folder are encoded in a
worker and the PCA is saved beside the model (or under the user models folder when the model's
folder is read-only).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from celae_gui import settings
from celae_gui.state import AppState
from celae_gui.workers.base import TaskSlot
from celae_gui.workers.pca_worker import (
    PcaEffectsResult,
    PcaEffectsWorker,
    PcaFitResult,
    PcaFitWorker,
    PcaLoadWorker,
)

N_SLIDERS = 8
RANGE_STD = 3.0
STEPS_PER_STD = 100
SOURCES_CHOICES = ("Library songs", "A folder of songs…")


class PCPanel(QGroupBox):
    """``N_SLIDERS`` principal-direction sliders, or the button that fits the PCA.

    Signals
    -------
    fit_done(object)
        The :class:`PcaFitResult` of a finished fit.
    """

    fit_done = Signal(object)

    def __init__(self, state: AppState, parent: QWidget | None = None):
        super().__init__("Principal directions", parent)
        self._state = state
        self._load = TaskSlot("pca-load", self)
        self._fit = TaskSlot("pca-fit", self)
        self._effects = TaskSlot("pca-effects", self)
        self._loading_for = None
        self._fit_worker: PcaFitWorker | None = None
        self.sliders: list[QSlider] = []
        self._names: list[QLabel] = []
        self._values: list[QLabel] = []
        self.effect_labels: list[QLabel] = []
        self.stack = QStackedWidget()
        self.stack.addWidget(self._build_sliders())
        self.stack.addWidget(self._build_fit_page())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.stack)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setVisible(False)
        layout.addWidget(self.progress)
        state.model_changed.connect(self._on_model_changed)
        state.pca_changed.connect(self._on_pca_changed)
        state.edit_params_changed.connect(self._on_edit_params_changed)
        state.latents_changed.connect(self._measure_effects)
        self._on_pca_changed(state.latent_pca)

    def _build_sliders(self) -> QWidget:
        page = QWidget()
        grid = QGridLayout(page)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setColumnStretch(1, 1)
        grid.setVerticalSpacing(2)
        for i in range(N_SLIDERS):
            name = QLabel(f"PC{i + 1}")
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(round(-RANGE_STD * STEPS_PER_STD), round(RANGE_STD * STEPS_PER_STD))
            slider.setAccessibleName(f"Principal direction {i + 1}")
            slider.setToolTip(f"Move the latent along principal direction {i + 1}, in standard "
                              "deviations of the training latents (double-click the value to "
                              "reset)")
            value = QLabel("+0.00σ")
            value.setMinimumWidth(52)
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            slider.valueChanged.connect(lambda v, k=i: self._on_slider_changed(k, v))
            effect = QLabel("")
            effect.setObjectName("muted")
            effect.setMinimumWidth(120)
            grid.addWidget(name, i, 0)
            grid.addWidget(slider, i, 1)
            grid.addWidget(value, i, 2)
            grid.addWidget(effect, i, 3)
            self.sliders.append(slider)
            self._names.append(name)
            self._values.append(value)
            self.effect_labels.append(effect)
        buttons = QHBoxLayout()
        self.variance_label = QLabel("")
        self.variance_label.setObjectName("muted")
        self.reset_button = QPushButton("Centre")
        self.reset_button.setToolTip("Put every principal-direction slider back to 0")
        self.reset_button.clicked.connect(self.reset)
        self.refit_button = QPushButton("Refit…")
        self.refit_button.setToolTip("Fit the latent PCA again on the library's songs")
        self.refit_button.clicked.connect(self._on_fit_clicked)
        buttons.addWidget(self.variance_label, 1)
        buttons.addWidget(self.refit_button)
        buttons.addWidget(self.reset_button)
        grid.addLayout(buttons, N_SLIDERS, 0, 1, 4)
        self._slider_page = page
        return page

    def _build_fit_page(self) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 0, 0, 0)
        self.placeholder = QLabel("")
        self.placeholder.setWordWrap(True)
        self.placeholder.setObjectName("muted")
        self.source = QComboBox()
        self.source.addItems(SOURCES_CHOICES)
        self.source.setToolTip("Songs whose latents the principal directions are fitted on")
        self.fit_button = QPushButton("Fit latent PCA")
        self.fit_button.clicked.connect(self._on_fit_clicked)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_fit)
        row = QHBoxLayout()
        row.addWidget(self.source, 1)
        row.addWidget(self.fit_button)
        row.addWidget(self.cancel_button)
        box.addWidget(self.placeholder)
        box.addLayout(row)
        self._fit_page = page
        return page

    # --- queries -----------------------------------------------------------------------------
    def showing_sliders(self) -> bool:
        """True when the sliders are shown (the model has a PCA)."""
        return self.stack.currentWidget() is self._slider_page

    def fitting(self) -> bool:
        """True while a fit runs."""
        return self._fit_worker is not None

    # --- commands ----------------------------------------------------------------------------
    def set_value(self, index: int, std: float) -> None:
        """Move slider ``index`` to ``std`` standard deviations (as a user would)."""
        self.sliders[index].setValue(round(std * STEPS_PER_STD))

    def reset(self) -> None:
        """Every principal-direction offset back to 0 (one undo step)."""
        if any(self._state.edit_params.pc_offsets):
            self._state.set_edit_params(self._state.replace_params(pc_offsets=()))

    def fit(self, files: list[Path]) -> None:
        """Fit the current model's PCA on ``files`` (songs or folders) in a worker."""
        loaded = self._state.model
        if loaded is None:
            self._state.error("Load a model before fitting its latent PCA")
            return
        worker = PcaFitWorker(loaded, files)
        worker.progress.connect(self._on_fit_progress)
        worker.result.connect(self._on_fit_result)
        worker.failed.connect(self._on_fit_failed)
        self._fit_worker = worker
        self._set_fitting(True)
        self._fit.start(worker)

    def cancel_fit(self) -> None:
        """Stop a running fit (nothing is saved)."""
        self._fit.cancel()
        self._fit_worker = None
        self._set_fitting(False)

    def shutdown(self) -> bool:
        """Cancel and join the panel's workers."""
        results = [slot.shutdown() for slot in (self._load, self._fit, self._effects)]
        return all(results)

    # --- slots -------------------------------------------------------------------------------
    def _on_fit_clicked(self) -> None:
        if self.source.currentIndex() == 0 or self.sender() is self.refit_button:
            files = [e.path for e in self._state.playable_entries()]
            if not files:
                self._state.error("The library has no songs to fit the latent PCA on")
                return
        else:
            folder = QFileDialog.getExistingDirectory(self, "Songs to fit the PCA on",
                                                      settings.start_folder("folders/dataset"))
            if not folder:
                return
            files = [Path(folder)]
        self.fit(files)

    def _on_model_changed(self, loaded) -> None:
        self.cancel_fit()
        self._state.set_latent_pca(None)
        self._loading_for = loaded
        if loaded is None:
            self._load.cancel()
            return
        worker = PcaLoadWorker(loaded)
        worker.result.connect(self._on_pca_loaded)
        worker.failed.connect(self._on_pca_failed)
        self._load.start(worker)

    def _on_pca_loaded(self, pca) -> None:
        if self._loading_for is self._state.model and pca is not None:
            self._state.set_latent_pca(pca)

    def _on_pca_failed(self, message: str) -> None:
        self._state.error(f"Latent PCA: {message} (fit it again)")
        model = self._state.model
        if model is not None and self._loading_for is model:
            # A damaged PCA is not a missing one: say so where the user looks.
            self.placeholder.setText(f"The latent PCA of “{model.path.name}” cannot be read "
                                     f"({message}). Fit it again to replace it.")

    def _on_pca_changed(self, pca) -> None:
        model = self._state.model
        if pca is None:
            self.placeholder.setText(
                "No model loaded." if model is None else
                f"“{model.path.name}” has no latent PCA yet. Fit one on songs to explore its "
                "main directions.")
            self.fit_button.setEnabled(model is not None)
            self.stack.setCurrentWidget(self._fit_page)
            return
        n = min(N_SLIDERS, pca.n_components)
        for i, (name, slider) in enumerate(zip(self._names, self.sliders, strict=True)):
            share = pca.explained_variance_ratio[i] if i < n else 0.0
            name.setText(f"PC{i + 1}")
            name.setToolTip(f"explains {100 * share:.1f} % of the latent variance")
            slider.setEnabled(i < n)
        ninety = pca.thresholds.get("90", pca.n_components)
        self.variance_label.setText(f"{ninety} components hold 90 % of the variance")
        if len(self._state.edit_params.pc_offsets) > n:
            self.reset()
        self.stack.setCurrentWidget(self._slider_page)
        self._measure_effects()

    def effect_texts(self) -> list[str]:
        """What each enabled slider's label says it changes."""
        return [label.text() for label, slider in zip(self.effect_labels, self.sliders,
                                                       strict=True) if slider.isEnabled()]

    def _measure_effects(self, *_args) -> None:
        """Label each direction with what +1σ does to the current clip (in a worker)."""
        state = self._state
        for label in self.effect_labels:
            label.setText("")
        pca, latents, model = state.latent_pca, state.latents, state.model
        if pca is None or latents is None or model is None \
                or latents.z.shape[1] != pca.channels:
            self._effects.cancel()
            return
        worker = PcaEffectsWorker(model.model, pca, latents,
                                  min(N_SLIDERS, pca.n_components))
        worker.result.connect(self._on_effects)
        self._effects.start(worker)

    def _on_effects(self, result: PcaEffectsResult) -> None:
        state = self._state
        if result.pca is not state.latent_pca or result.latents is not state.latents:
            return
        name = state.current_path.name if state.current_path else "this clip"
        for label, effect in zip(self.effect_labels, result.effects, strict=False):
            label.setText(effect.label())
            label.setToolTip(f"At +1σ on {name}: RMS {effect.loudness_db:+.1f} dB, spectral "
                             f"centroid {effect.centroid_hz:+.0f} Hz, mean {effect.dc:+.3f}")

    def _on_slider_changed(self, index: int, raw: int) -> None:
        self._values[index].setText(f"{raw / STEPS_PER_STD:+.2f}σ")
        values = [s.value() / STEPS_PER_STD for s in self.sliders if s.isEnabled()]
        offsets = tuple(values) if any(values) else ()
        self._state.set_edit_params(self._state.replace_params(pc_offsets=offsets),
                                    merge_key=f"pc{index}")

    def _on_edit_params_changed(self, params) -> None:
        offsets = list(params.pc_offsets)
        for i, slider in enumerate(self.sliders):
            value = offsets[i] if i < len(offsets) else 0.0
            slider.blockSignals(True)
            slider.setValue(round(value * STEPS_PER_STD))
            slider.blockSignals(False)
            self._values[i].setText(f"{value:+.2f}σ")

    def _on_fit_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(round(fraction * 1000))
        self.progress.setFormat(message)

    def _on_fit_result(self, result: PcaFitResult) -> None:
        # A cancelled fit reports ``cancelled``, never a result: this is the current one.
        self._end_fit()
        model = self._state.model
        if model is None or Path(model.path) != result.model_path:
            return
        self._state.set_latent_pca(result.pca)
        self._state.info(f"Latent PCA fitted on {result.n_clips} clips, saved with the model "
                         f"{model.name}")
        self.fit_done.emit(result)

    def _on_fit_failed(self, message: str) -> None:
        self._end_fit()
        self._state.error(f"Fitting the latent PCA failed: {message}")

    def _end_fit(self) -> None:
        self._fit_worker = None
        self._set_fitting(False)

    def _set_fitting(self, running: bool) -> None:
        self.progress.setVisible(running)
        if running:
            self.progress.setValue(0)
        self.fit_button.setEnabled(not running and self._state.model is not None)
        self.refit_button.setEnabled(not running)
        self.cancel_button.setVisible(running)
