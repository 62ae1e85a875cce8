"""TensorFlow's native start-up chatter kept off the terminal.

TensorFlow and TensorFlow Lite print from C++ straight to file descriptor 2 ("All log messages before
absl::InitializeLog()", oneDNN notes, an error-looking `E0000 ... NodeDef mentions attribute` line
while converting a model, notes of the SavedModel export behind the conversion, the XNNPACK
delegate notice), and TF_CPP_MIN_LOG_LEVEL does not reach
absl's early logging. While a model loads, descriptor 2 goes to a temporary file; afterwards every
line that is not such chatter (a request's log line written meanwhile, a real error) is passed on.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator

CHATTER = re.compile(
    rb"^(WARNING: All log messages before absl::InitializeLog\(\)"
    rb"|[IWE]\d{4} [\d:. ]+\d+ (port|cpu_feature_guard|node_def_util|cpu_allocator_impl)\.cc:\d+\]"
    rb"|INFO: Created TensorFlow Lite XNNPACK delegate"
    rb"|Assets written to: |Saved artifact at |Function `.*` contains input name\(s\)"
    rb"|To enable the following instructions: .* rebuild TensorFlow)"
)
_lock = threading.Lock()  # one redirection at a time: descriptor 2 is the process's


@contextlib.contextmanager
def native_chatter_filtered() -> Iterator[None]:
    """Run the body with descriptor 2 captured; pass on what is not TensorFlow's chatter."""
    with _lock, tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = b"".join(line for line in captured if not CHATTER.match(line))
            if kept:
                os.write(2, kept)
