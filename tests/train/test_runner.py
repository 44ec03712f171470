"""train.runner: which checkpoint a resumed run continues from."""

import json

from slmforge.train.runner import CHECKPOINTS, last_checkpoint


def _checkpoint(root, step: int, *, state: str | None) -> None:
    folder = root / CHECKPOINTS / f"checkpoint-{step}"
    folder.mkdir(parents=True)
    (folder / "adapter_model.safetensors").write_bytes(b"\0" * 16)
    if state is not None:
        (folder / "trainer_state.json").write_text(state)


def test_resume_skips_checkpoints_cut_off_mid_save(tmp_path, caplog):
    assert last_checkpoint(tmp_path) is None  # no checkpoints folder yet
    _checkpoint(tmp_path, 2, state=json.dumps({"global_step": 2}))
    _checkpoint(tmp_path, 10, state=json.dumps({"global_step": 10}))  # numeric order, not text order
    _checkpoint(tmp_path, 11, state=None)  # killed before trainer_state.json was written
    _checkpoint(tmp_path, 12, state='{"global_step": 1')  # killed while writing it
    (tmp_path / CHECKPOINTS / "checkpoint-notes").mkdir()
    assert last_checkpoint(tmp_path) == str(tmp_path / CHECKPOINTS / "checkpoint-10")
    assert sum("incomplete checkpoint" in r.message for r in caplog.records) == 2


def test_no_complete_checkpoint_means_start_from_scratch(tmp_path):
    _checkpoint(tmp_path, 1, state=None)
    assert last_checkpoint(tmp_path) is None
