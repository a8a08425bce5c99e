"""Find positions in big byte buffers with numpy, block by block; read Arrow string offsets.

A test over a whole multi-megabyte buffer allocates temporaries of the buffer's size, which
cost fresh (zeroed) pages on every call; over blocks of :data:`SCAN_BLOCK` elements the
temporaries stay small and in cache.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

SCAN_BLOCK = 1 << 19
"""Elements per block (512 Ki)."""


def flatnonzero_blocked(values: np.ndarray, test: Callable[[np.ndarray], np.ndarray],
                        block: int = SCAN_BLOCK) -> np.ndarray:
    """``np.flatnonzero(test(values))``, computed block by block (``test`` must be element-wise).

    >>> b = np.frombuffer(b"a\\nbc\\rd\\n", dtype=np.uint8)
    >>> flatnonzero_blocked(b, lambda x: (x == 10) | (x == 13), block=3).tolist()
    [1, 4, 6]
    """
    found = [np.flatnonzero(test(values[i:i + block])) + i for i in range(0, len(values), block)]
    return np.concatenate(found).astype(np.int64, copy=False) if found else np.zeros(0, dtype=np.int64)


def string_offsets(texts: pa.Array) -> np.ndarray:
    """The ``len(texts) + 1`` offsets of an Arrow string or large_string array, as a zero-copy
    numpy view (the array's own slice offset applied): text ``i`` is the bytes
    ``offsets[i]:offsets[i + 1]`` of the data buffer (``texts.buffers()[2]``).

    >>> string_offsets(pa.array(["ab", "", "cde"]).slice(1)).tolist()
    [2, 2, 5]
    """
    width = np.int64 if pa.types.is_large_string(texts.type) else np.int32
    return np.frombuffer(texts.buffers()[1], dtype=width)[texts.offset: texts.offset + len(texts) + 1]
