import gzip

import numpy as np
import pytest

from digits.config import MNIST_SHA256
from digits.data import MnistDataError, idx_bytes, load_mnist, read_idx, verify_mnist_array


def write_idx(path, array: np.ndarray, *, compress: bool = False) -> None:
    data = idx_bytes(array)
    if compress:
        with gzip.open(path, "wb", compresslevel=1) as handle:
            handle.write(data)
    else:
        path.write_bytes(data)


@pytest.mark.parametrize("compress", [False, True])
def test_idx_reader_reads_images_and_labels_raw_or_gzipped(tmp_path, compress):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    labels = np.array([7, 1, 3], dtype=np.uint8)
    write_idx(tmp_path / "images", images, compress=compress)
    write_idx(tmp_path / "labels", labels, compress=compress)
    np.testing.assert_array_equal(read_idx(tmp_path / "images"), images)
    np.testing.assert_array_equal(read_idx(tmp_path / "labels"), labels)


def test_wrong_magic_number_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "bogus-idx3-ubyte"
    path.write_bytes(b"\x00\x00\x0d\x03" + b"\x00" * 20)
    with pytest.raises(MnistDataError, match=r"bogus-idx3-ubyte.*magic"):
        read_idx(path)


def test_truncated_file_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "short-images"
    path.write_bytes(idx_bytes(np.zeros((3, 28, 28), dtype=np.uint8))[:-10])
    with pytest.raises(MnistDataError, match=r"short-images.*truncated"):
        read_idx(path)


def test_truncated_gzip_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "labels.gz"
    write_idx(path, np.arange(1000, dtype=np.uint8) % 10, compress=True)
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(MnistDataError, match=r"labels.gz"):
        read_idx(path)


def test_checksum_mismatch_is_refused():
    not_mnist = np.zeros((10,), dtype=np.uint8)
    with pytest.raises(MnistDataError, match="sha256 of t10k-labels-idx1-ubyte"):
        verify_mnist_array("t10k-labels-idx1-ubyte", not_mnist, origin="somewhere")


def test_missing_file_in_a_folder_is_an_error_naming_it(tmp_path):
    with pytest.raises(MnistDataError, match="train-images-idx3-ubyte"):
        load_mnist(tmp_path)


def test_missing_source_is_an_error(tmp_path):
    with pytest.raises(MnistDataError, match="no such file"):
        load_mnist(tmp_path / "nowhere")


def test_npm_mnist_is_the_original_data(mnist):
    assert mnist.x_train.shape == (60000, 28, 28) and mnist.x_test.shape == (10000, 28, 28)
    assert mnist.x_train.dtype == np.uint8
    assert np.bincount(mnist.y_test).tolist()[:3] == [980, 1135, 1032]


def test_folder_of_gzipped_idx_files_loads_the_same_data(tmp_path, mnist):
    for name, array in zip(MNIST_SHA256, (mnist.x_train, mnist.y_train, mnist.x_test, mnist.y_test), strict=True):
        write_idx(tmp_path / f"{name}.gz", array, compress=True)
    loaded = load_mnist(tmp_path)
    np.testing.assert_array_equal(loaded.x_test, mnist.x_test)
    np.testing.assert_array_equal(loaded.y_train, mnist.y_train)


def test_keras_npz_loads_and_a_tampered_one_is_refused(tmp_path, mnist):
    arrays = {"x_train": mnist.x_train, "y_train": mnist.y_train, "x_test": mnist.x_test, "y_test": mnist.y_test}
    np.savez_compressed(tmp_path / "mnist.npz", **arrays)
    np.testing.assert_array_equal(load_mnist(tmp_path / "mnist.npz").x_train, mnist.x_train)

    tampered = dict(arrays, y_test=mnist.y_test.copy())
    tampered["y_test"][0] = (tampered["y_test"][0] + 1) % 10
    np.savez_compressed(tmp_path / "tampered.npz", **tampered)
    with pytest.raises(MnistDataError, match=r"tampered.npz\[y_test\].*sha256"):
        load_mnist(tmp_path / "tampered.npz")


def test_a_file_that_is_not_npz_is_refused(tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_bytes(b"not a zip")
    with pytest.raises(MnistDataError, match=r"mnist.npz"):
        load_mnist(path)
