"""The text recogniser: RapidOCR's PP-OCRv4 recognition model (ONNX, shipped in the
rapidocr-onnxruntime wheel), without its detector: the table grid already says where the
text is, so only the crops of single text lines are recognised, in batches of similar width.
"""
from __future__ import annotations

import threading

import numpy as np

BATCH = 1               # measured: padding a batch to its widest crop costs more than it saves
# ONNX threads per recognition. One: measured on two shared cores, more threads cost more
# CPU than they save (a page in 3.6 s with one, 8 s with all); pages run side by side instead.
THREADS = 1
_recogniser = None
_lock = threading.Lock()


def recogniser():
    """The process's recogniser, loaded once."""
    global _recogniser
    with _lock:
        if _recogniser is None:
            from rapidocr_onnxruntime.ch_ppocr_rec import TextRecognizer
            from rapidocr_onnxruntime.main import DEFAULT_CFG_PATH
            from rapidocr_onnxruntime.utils import read_yaml, update_model_path

            config = update_model_path(read_yaml(DEFAULT_CFG_PATH))["Rec"]
            config["intra_op_num_threads"] = THREADS
            config["inter_op_num_threads"] = 1
            config["rec_batch_num"] = BATCH
            _recogniser = TextRecognizer(config)
        return _recogniser


def recognise(crops: list[np.ndarray]) -> list[tuple[str, float]]:
    """(text, confidence 0..1) for each grey or BGR line crop."""
    import cv2

    if not crops:
        return []
    images = [cv2.cvtColor(c, cv2.COLOR_GRAY2BGR) if c.ndim == 2 else c for c in crops]
    results, _elapsed = recogniser()(images)
    return [(str(text), float(conf)) for text, conf in results]
