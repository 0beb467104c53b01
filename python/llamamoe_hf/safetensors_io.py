"""A small safetensors reader and writer on the standard library (struct + json + mmap), for int32/float32 tensors.

The format: 8-byte little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets:[begin, end]},
"__metadata__": {...}}, then the data, offsets relative to the end of the header.
"""

from __future__ import annotations

import array
import json
import mmap
import os
import struct
import sys
from dataclasses import dataclass
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from .errors import BAD_DATA, LlamaMoeError

ITEM_SIZE = {"BOOL": 1, "U8": 1, "I8": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4,
             "I64": 8, "U64": 8, "F64": 8}
ARRAY_CODE = {"I32": "i", "F32": "f", "I64": "q", "F64": "d", "U8": "B"}
MAX_HEADER = 100 * 1024 * 1024


@dataclass(frozen=True)
class TensorInfo:
    """Where one tensor lies in a file."""

    name: str
    dtype: str
    shape: Tuple[int, ...]
    begin: int
    end: int

    @property
    def count(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n


class SafetensorsFile:
    """A read-only, memory-mapped safetensors file. Use as a context manager."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._handle = open(path, "rb")
        try:
            self.tensors, self.metadata, self._data_start = _parse_header(self._handle, path)
            size = os.fstat(self._handle.fileno()).st_size
            self._map: Optional[mmap.mmap] = (
                mmap.mmap(self._handle.fileno(), 0, access=mmap.ACCESS_READ) if size > 0 else None)
            for info in self.tensors.values():
                if self._data_start + info.end > size:
                    raise LlamaMoeError(BAD_DATA, f"tensor '{info.name}' runs past the end of the file", path,
                                        info.name, "The file is truncated; copy it again.")
        except BaseException:
            self._handle.close()
            raise

    def __enter__(self) -> "SafetensorsFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None
        self._handle.close()

    def info(self, name: str) -> TensorInfo:
        try:
            return self.tensors[name]
        except KeyError:
            raise LlamaMoeError(BAD_DATA, f"has no tensor '{name}' (it has {sorted(self.tensors)})", self.path, name,
                                "Regenerate the bundle's data.") from None

    def raw(self, name: str, start: int = 0, count: Optional[int] = None) -> bytes:
        """The bytes of elements [start, start+count) of a tensor, flattened in row-major order."""
        info = self.info(name)
        size = ITEM_SIZE[info.dtype]
        count = info.count - start if count is None else count
        if start < 0 or count < 0 or start + count > info.count:
            raise IndexError(f"{name}: elements [{start}, {start + count}) out of range {info.count}")
        begin = self._data_start + info.begin + start * size
        assert self._map is not None or count == 0
        return bytes(self._map[begin:begin + count * size]) if self._map is not None else b""

    def array(self, name: str, start: int = 0, count: Optional[int] = None) -> "array.array[float]":
        """Elements as a Python array (I32, F32, I64, F64, U8), little-endian decoded."""
        dtype = self.info(name).dtype
        if dtype not in ARRAY_CODE:
            raise LlamaMoeError(BAD_DATA, f"tensor '{name}' has dtype {dtype}; this reader handles {sorted(ARRAY_CODE)}",
                                self.path, name, "Write the tensor as int32 or float32.")
        values = array.array(ARRAY_CODE[dtype])
        values.frombytes(self.raw(name, start, count))
        if sys.byteorder != "little":
            values.byteswap()
        return values

    def row(self, name: str, index: int) -> List[int]:
        """Row `index` of a 2-D integer tensor as a list."""
        info = self.info(name)
        if len(info.shape) != 2:
            raise LlamaMoeError(BAD_DATA, f"tensor '{name}' has shape {list(info.shape)}, expected 2-D", self.path, name,
                                "Regenerate the bundle's data.")
        width = info.shape[1]
        return [int(v) for v in self.array(name, index * width, width)]


def _parse_header(handle: "object", path: str) -> Tuple[Dict[str, TensorInfo], Dict[str, str], int]:
    read = getattr(handle, "read")
    prefix = read(8)
    if len(prefix) != 8:
        raise LlamaMoeError(BAD_DATA, "is shorter than a safetensors header", path, None, "Copy the file again.")
    (length,) = struct.unpack("<Q", prefix)
    if length > MAX_HEADER:
        raise LlamaMoeError(BAD_DATA, f"declares a {length}-byte header", path, None, "The file is not safetensors.")
    try:
        header = json.loads(read(length).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise LlamaMoeError(BAD_DATA, f"has an unreadable header: {error}", path, None, "Copy the file again.") from error
    if not isinstance(header, dict):
        raise LlamaMoeError(BAD_DATA, "header is not a JSON object", path, None, "The file is not safetensors.")
    metadata = header.pop("__metadata__", None) or {}
    tensors: Dict[str, TensorInfo] = {}
    for name, entry in header.items():
        try:
            dtype = entry["dtype"]
            shape = tuple(int(d) for d in entry["shape"])
            begin, end = (int(o) for o in entry["data_offsets"])
        except (KeyError, TypeError, ValueError) as error:
            raise LlamaMoeError(BAD_DATA, f"tensor '{name}' has a malformed header entry", path, name,
                                "The file is not safetensors.") from error
        if dtype not in ITEM_SIZE:
            raise LlamaMoeError(BAD_DATA, f"tensor '{name}' has unknown dtype {dtype}", path, name, "Use I32/F32/BF16.")
        info = TensorInfo(name, dtype, shape, begin, end)
        if end - begin != info.count * ITEM_SIZE[dtype] or begin < 0:
            raise LlamaMoeError(BAD_DATA, f"tensor '{name}' spans {end - begin} bytes, its shape needs "
                                f"{info.count * ITEM_SIZE[dtype]}", path, name, "The file is corrupt; regenerate it.")
        tensors[name] = info
    return tensors, {str(k): str(v) for k, v in metadata.items()}, 8 + length


def write_safetensors(path: str, tensors: Mapping[str, Tuple[str, Sequence[int], bytes]],
                      metadata: Optional[Mapping[str, str]] = None) -> None:
    """Writes {name: (dtype, shape, little-endian bytes)} atomically (temp file + rename), names sorted."""
    header: Dict[str, object] = {}
    if metadata:
        header["__metadata__"] = dict(metadata)
    offset = 0
    ordered = sorted(tensors.items())
    for name, (dtype, shape, data) in ordered:
        count = 1
        for d in shape:
            count *= d
        if len(data) != count * ITEM_SIZE[dtype]:
            raise ValueError(f"{name}: {len(data)} bytes for shape {list(shape)} of {dtype}")
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * ((8 - len(encoded) % 8) % 8)
    temp = path + ".tmp"
    with open(temp, "wb") as handle:
        handle.write(struct.pack("<Q", len(encoded)))
        handle.write(encoded)
        for _, (_, _, data) in ordered:
            handle.write(data)
    os.replace(temp, path)


def pack(code: str, values: Iterable[float]) -> bytes:
    """Little-endian bytes of `values` for array type code 'i' (int32) or 'f' (float32)."""
    packed = array.array(code, values)
    if sys.byteorder != "little":
        packed.byteswap()
    return packed.tobytes()
