"""The text recogniser: RapidOCR's PP-OCRv4 recognition model (ONNX, shipped in the
rapidocr-onnxruntime wheel), without its detector: the table grid already says where the
text is, so only the crops of single text lines are recognised, one crop per run, on every core.

A crop is scaled to the model's height (48 px) and padded on the right to at least
MIN_WIDTH px. RapidOCR pads every crop to 320 px (PaddleOCR's training shape), and the model's
cost grows with the width, so a short cell (≥70家, 2313) cost as much as a line of 20
characters. Measured on bench/ocr.py's scans (the seed forms and ten random forms, 2,760
fields): 320 px and 192 px read the same 99.31 % of fields, 192 px with 23 % less CPU; at
160 px amounts began to be misread.
"""
from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from importers.confidence import CONFIDENCE_THRESHOLD

HEIGHT = 48             # the model's input height
MIN_WIDTH = 192         # the narrowest input: shorter crops are padded to it
TRAINED_WIDTH = 320     # RapidOCR's (and PaddleOCR's training) narrowest input
# ONNX threads per recognition. One: measured on two shared cores, more threads cost more
# CPU than they save (a page in 3.6 s with one, 8 s with all); crops run side by side instead.
# Batches: padding a batch to its widest crop, and the larger working set, cost more than the
# calls they save (measured: 25 ms a crop alone, 33 ms in batches of 8, at 320 px).
THREADS = 1
# Crops read side by side, each on one ONNX thread: independent runs scale where ONNX's own
# threads did not, and a page that is read alone (the last page of a file) uses every core.
WORKERS = max(1, min(2, os.cpu_count() or 1))
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
            config["rec_batch_num"] = 1
            _recogniser = TextRecognizer(config)
        return _recogniser


def model_input_width(crop: np.ndarray, min_width: int = MIN_WIDTH) -> int:
    """The width of a crop's model input: as RapidOCR sizes it, but for the floor."""
    h, w = crop.shape[:2]
    return max(min_width, int(HEIGHT * w / h))


def model_input(crop: np.ndarray, min_width: int = MIN_WIDTH) -> np.ndarray:
    """A grey or BGR crop as the model's input: 1×3×48×W, scaled to 48 px high keeping its
    shape, values in −1..1, padded with 0 on the right to at least `min_width`."""
    import cv2

    image = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR) if crop.ndim == 2 else crop
    h, w = image.shape[:2]
    width = model_input_width(crop, min_width)
    scaled_w = max(1, min(width, math.ceil(HEIGHT * w / h)))
    scaled = cv2.resize(image, (scaled_w, HEIGHT)).astype(np.float32).transpose((2, 0, 1)) / 255
    out = np.zeros((1, 3, HEIGHT, width), dtype=np.float32)
    out[0, :, :, :scaled_w] = (scaled - 0.5) / 0.5
    return out


def _read_one(model, crop: np.ndarray) -> tuple[str, float]:
    """A crop read on the narrow input; one read doubtfully is read again padded to RapidOCR's
    320 px, and the more confident reading kept: the padding steadies the model on a short cell
    (a lone 0 read at 0.81 on 192 px reads at 0.97 on 320), so no more cells go to a person for
    checking than before, at the cost of a few second reads."""
    reading = _run(model, crop, MIN_WIDTH)
    if reading[1] < CONFIDENCE_THRESHOLD and model_input_width(crop, MIN_WIDTH) < TRAINED_WIDTH:
        second = _run(model, crop, TRAINED_WIDTH)
        if second[1] > reading[1]:
            return second
    return reading


def _run(model, crop: np.ndarray, min_width: int) -> tuple[str, float]:
    batch = model_input(crop, min_width)
    preds = model.session(batch)[0]
    (text, conf), = model.postprocess_op(preds, False, wh_ratio_list=[crop.shape[1] / crop.shape[0]],
                                          max_wh_ratio=batch.shape[3] / HEIGHT)
    return str(text), float(conf)


def recognise(crops: list[np.ndarray]) -> list[tuple[str, float]]:
    """(text, confidence 0..1) for each grey or BGR line crop, read on WORKERS threads."""
    model = recogniser()
    if WORKERS <= 1 or len(crops) < 2:
        return [_read_one(model, crop) for crop in crops]
    # threads of this call only: none outlive it (a process with threads forks its sandbox
    # children from a fork server: importers/sandbox.py)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(lambda crop: _read_one(model, crop), crops))
