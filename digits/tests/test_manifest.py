import json

import pytest

from digits.manifest import ManifestError, read_manifest, update_entry, upsert_entry


def test_missing_manifest_is_a_clear_error(tmp_path):
    with pytest.raises(ManifestError, match="missing"):
        read_manifest(tmp_path)


@pytest.mark.parametrize("text", ["{", "[]", '{"models": [{"file": "x.h5"}]}', '{"models": "cnn"}'])
def test_malformed_manifest_is_a_clear_error(tmp_path, text):
    (tmp_path / "manifest.json").write_text(text)
    with pytest.raises(ManifestError):
        read_manifest(tmp_path)


def test_upsert_adds_and_replaces_entries_in_order(tmp_path):
    upsert_entry(tmp_path, {"name": "cnn", "file": "cnn.h5", "sha256": "a"})
    upsert_entry(tmp_path, {"name": "rf", "file": "rf.pkl", "sha256": "b"})
    upsert_entry(tmp_path, {"name": "cnn", "file": "cnn.h5", "sha256": "c"})
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest == {
        "default": "cnn",
        "models": [{"name": "cnn", "file": "cnn.h5", "sha256": "c"}, {"name": "rf", "file": "rf.pkl", "sha256": "b"}],
    }
    assert not list(tmp_path.glob("*.tmp")), "the manifest is written atomically, leaving no temporary file"
    assert (tmp_path / "manifest.json").stat().st_mode & 0o777 == 0o644


def test_update_merges_into_the_current_entry_only_while_it_names_the_measured_file(tmp_path):
    upsert_entry(tmp_path, {"name": "cnn", "file": "cnn.h5", "sha256": "a", "metrics": {"x": 1}})
    assert update_entry(tmp_path, "cnn", {"not_a_digit": {"t": 1}}, sha256="a")
    assert read_manifest(tmp_path)["models"] == [
        {"name": "cnn", "file": "cnn.h5", "sha256": "a", "metrics": {"x": 1}, "not_a_digit": {"t": 1}}
    ]
    upsert_entry(tmp_path, {"name": "cnn", "file": "cnn.h5", "sha256": "b"})  # the file was retrained meanwhile
    assert not update_entry(tmp_path, "cnn", {"metrics": {"x": 2}}, sha256="a")
    assert not update_entry(tmp_path, "rf", {"metrics": {"x": 2}}, sha256="a")
    assert read_manifest(tmp_path)["models"] == [{"name": "cnn", "file": "cnn.h5", "sha256": "b"}]
