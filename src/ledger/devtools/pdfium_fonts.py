"""PDFium restarted to look for stand-in fonts in given folders only (FPDF_InitLibraryWithConfig's
user font paths replace its system folders): how the PDF reader reads on a machine without a
CJK font, whatever this one has. For tests and benchmarks, in a process of their own: call it
before PDFium opens any document."""

from __future__ import annotations

import ctypes
from collections.abc import Sequence

import pypdfium2.raw as pdfium
from pypdfium2 import _library_scope
from pypdfium2.internal import bases


def restart_pdfium(font_folders: Sequence[str]) -> None:
    _library_scope.destroy_lib()
    field = dict(pdfium.FPDF_LIBRARY_CONFIG._fields_)["m_pUserFontPaths"]
    item = field._type_
    buffers = [ctypes.create_string_buffer(folder.encode()) for folder in font_folders]
    paths = (item * (len(buffers) + 1))(*[ctypes.cast(b, item) for b in buffers], None)
    config = pdfium.FPDF_LIBRARY_CONFIG(version=2, m_pUserFontPaths=ctypes.cast(paths, field), m_pIsolate=None,
                                        m_v8EmbedderSlot=0)
    pdfium.FPDF_InitLibraryWithConfig(config)
    bases.LIBRARY_AVAILABLE = True
    restart_pdfium.kept = (buffers, paths)  # type: ignore[attr-defined]  # PDFium copies them at start; kept anyway
