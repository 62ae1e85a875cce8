"""Fitting the detector of touching digits: its labelled groups and its command."""

from __future__ import annotations

import json

import numpy as np

from digits.data import load_mnist
from digits.manifest import read_manifest, write_manifest
from digits.segment import SHAPE_FACTS
from digits.touching import MANIFEST_KEY, touching_detector
from digits.train_touching import _covered, drawn_groups, main


def test_a_group_covers_the_digit_boxes_it_mostly_holds():
    digits = [(0, 0, 10, 20), (12, 0, 10, 20), (30, 0, 10, 20)]
    assert _covered((0, 0, 22, 20), digits) == 2
    assert _covered((0, 0, 16, 20), digits) == 1  # holds 4 of the second digit's 10 columns: not covered
    assert _covered((50, 0, 10, 20), digits) == 0


def test_drawn_groups_are_labelled_by_the_digits_they_cover():
    images = load_mnist().x_train
    inputs, facts, several = drawn_groups(images, count=40, seed=3)
    assert inputs.shape == (len(several), 28, 28) and facts.shape == (len(several), SHAPE_FACTS)
    assert 0 < several.sum() < len(several) / 2  # some touching digits, mostly lone ones
    again = drawn_groups(images, count=40, seed=3)
    np.testing.assert_array_equal(again[0], inputs)


def test_the_command_fits_measures_and_stores_the_detector_in_the_entry(tmp_path, capsys):
    entry = {"name": "m", "file": "m.h5", "sha256": "0" * 64}
    write_manifest(tmp_path, {"default": "m", "models": [entry]})
    tiny = ["--numbers", "60", "--measure-numbers", "10"]
    assert main(["--models-dir", str(tmp_path), "--dry-run", *tiny]) == 0
    assert MANIFEST_KEY not in read_manifest(tmp_path)["models"][0]
    assert "log_loss=" in capsys.readouterr().out
    assert main(["--models-dir", str(tmp_path), *tiny]) == 0
    (stored,) = read_manifest(tmp_path)["models"]
    assert stored["sha256"] == entry["sha256"] and stored[MANIFEST_KEY]["trained"] == {"numbers": 60, "seed": 0}
    detect = touching_detector(json.loads(json.dumps(stored)))
    assert detect is not None and detect(np.zeros((2, 28, 28)), np.zeros((2, SHAPE_FACTS))).shape == (2,)
