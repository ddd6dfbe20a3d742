"""The app state without any widget: library bookkeeping and undo/redo of latent edits."""

from __future__ import annotations

from pathlib import Path

from celae_gui.state import AppState, LibraryEntry


def test_library_adds_each_song_once_and_keeps_failure_reasons(qapp):
    state = AppState()
    emitted = []
    state.library_changed.connect(lambda: emitted.append(1))
    assert state.add_paths([Path("a.wav"), Path("b.mp3")]) == [Path("a.wav"), Path("b.mp3")]
    assert state.add_paths([Path("a.wav")]) == []
    state.update_entry(LibraryEntry(Path("b.mp3"), "error", None, "b.mp3: not an audio file"))
    assert [e.status for e in state.library] == ["pending", "error"]
    assert state.entry(Path("b.mp3")).reason == "b.mp3: not an audio file"
    assert state.playable_entries() == []
    assert len(emitted) == 2


def test_one_slider_drag_is_one_undo_step_and_redo_restores_it(qapp):
    state = AppState()
    for value in (1.1, 1.2, 1.3):
        state.set_edit_params(state.replace_params(scale=value), merge_key="scale")
    state.set_edit_params(state.replace_params(smooth_window=5), merge_key="smooth_window")
    assert (state.edit_params.scale, state.edit_params.smooth_window) == (1.3, 5)
    assert state.undo()
    assert (state.edit_params.scale, state.edit_params.smooth_window) == (1.3, 1)
    assert state.undo()
    assert state.edit_params.is_identity
    assert not state.undo()
    assert state.redo()
    assert state.edit_params.scale == 1.3
    state.reset_edits()
    assert state.edit_params.is_identity
    assert not state.can_redo()
