"""Loaded once before parser children fork, so each child does not load it again.

Chinese PDFs often use non-embedded fonts with the predefined Adobe-GB1 encodings (宋体 as
STSong-Light with UniGB-UCS2-H, …); pdfminer loads those maps lazily, from compressed
pickles, in every process that meets them. Loading them here once is shared by all forks.
"""
from __future__ import annotations

from pdfminer.cmapdb import CMapDB

GB_CMAPS = ("UniGB-UCS2-H", "UniGB-UTF16-H", "GBK-EUC-H")

for _name in GB_CMAPS:
    CMapDB.get_cmap(_name)
CMapDB.get_unicode_map("Adobe-GB1")
