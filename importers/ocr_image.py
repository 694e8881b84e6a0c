"""Page images of a scanned PDF, cleaned for OCR (issue #15.1).

* `page_dpi` estimates a scan's resolution from its largest embedded image: pixels against the
  size the page draws it at. `render_page` renders the page at that resolution, capped at
  `MAX_DPI` (a 600-dpi scan is read at 300 dpi: four times less memory and work, and still
  more than the recogniser needs) and at `MAX_SIDE` pixels (a huge page cannot exhaust memory).
* `remove_seal` turns the red seal's pixels white (HSV mask); black text under the seal stays.
* `ink` binarises (adaptive threshold, so grey paper and uneven light do not matter).
* `skew_angle` / `rotate` measure and undo a slight tilt from the long horizontal rulings.
"""
from __future__ import annotations

import math

import numpy as np

MAX_DPI = 300          # scans above this are rendered down to it
MAX_SIDE = 4200        # pixels, either side of a rendered page
MAX_SKEW = 3.0         # degrees: tilts beyond this are left alone (not a scan's slight skew)


def page_dpi(page) -> float | None:
    """The resolution of the page's largest image, in dpi; None when it has no image."""
    import pypdfium2.raw as pdfium_c

    best = None
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2):
        try:
            left, bottom, right, top = obj.get_bounds()
            px_w, px_h = obj.get_px_size()
        except Exception:                    # noqa: BLE001 — a broken image: ignore it
            continue
        width, height = right - left, top - bottom
        if width < 36 or height < 36 or px_w <= 0 or px_h <= 0:
            continue                         # a logo or a stamp, not the page's scan
        area = width * height
        dpi = max(px_w / (width / 72), px_h / (height / 72))
        if best is None or area > best[0]:
            best = (area, dpi)
    return None if best is None else best[1]


def render_dpi(native: float | None) -> float:
    """The resolution a page is worked at: its scan's own, at most MAX_DPI (200 when unknown)."""
    if native is None:
        return 200.0
    return float(min(max(native, 72.0), MAX_DPI))


def render_page(page, dpi: float) -> np.ndarray:
    """The page as a BGR image at `dpi` (lower when the page is so large that MAX_SIDE bites)."""
    width, height = page.get_size()
    scale = min(dpi / 72, MAX_SIDE / max(width, height, 1))
    bitmap = page.render(scale=scale, rev_byteorder=False)
    arr = bitmap.to_numpy()
    if arr.ndim == 2:
        import cv2
        arr = cv2.cvtColor(arr, cv2.COLOR_GRAY2BGR)
    elif arr.shape[2] == 4:
        arr = arr[:, :, :3]
    return np.ascontiguousarray(arr)


def remove_seal(bgr: np.ndarray) -> np.ndarray:
    """A grey image without the red seal. Near red pixels (the seal, and its pinkish rim that
    JPEG's coarse colour leaves barely saturated) the red channel stands for the grey: the
    seal turns paper-light while black text and rulings under it stay dark."""
    import cv2

    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    hue, sat = hsv[:, :, 0], hsv[:, :, 1]
    red = (((hue <= 12) | (hue >= 160)) & (sat >= 50)).astype(np.uint8)
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    if not red.any():
        return grey
    zone = cv2.dilate(red, np.ones((7, 7), np.uint8)).astype(bool)
    channel = bgr[:, :, 2]
    paper = int(np.percentile(grey[::7, ::7], 75))
    grey[zone] = channel[zone]
    # the seal's ink, however dark its red; black print under it stays dark in red light too
    grey[red.astype(bool) & (channel >= 120)] = paper
    grey[zone & (channel >= 150)] = paper                      # its rim
    return grey


def ink(grey: np.ndarray, dpi: float) -> np.ndarray:
    """Binary image: 255 where there is ink."""
    import cv2

    block = max(15, int(dpi * 0.15) | 1)
    binary = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV,
                                   block, 18)
    return binary


def horizontal_lines(binary: np.ndarray, length: int) -> np.ndarray:
    import cv2

    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, length), 1))
    return cv2.morphologyEx(binary, cv2.MORPH_OPEN, kernel)


def skew_angle(binary: np.ndarray, dpi: float) -> float:
    """The tilt of the long horizontal rulings, in degrees (counter-clockwise positive as
    cv2.getRotationMatrix2D takes it); 0 when there are none or the tilt is too large."""
    import cv2

    # Short kernel: a tilted line stays within one pixel row for only a short run.
    mask = horizontal_lines(binary, int(dpi * 0.25))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    width = binary.shape[1]
    angles, weights = [], []
    for i in range(1, count):
        x, y, w, h, area = stats[i]
        if w < width * 0.2 or h > w * math.tan(math.radians(MAX_SKEW)) + dpi * 0.05:
            continue
        ys, xs = np.nonzero(labels[y:y + h, x:x + w] == i)
        if len(xs) < 10:
            continue
        slope = np.polyfit(xs.astype(np.float64), ys.astype(np.float64), 1)[0]
        angles.append(math.degrees(math.atan(slope)))
        weights.append(w)
    if not angles:
        return 0.0
    order = np.argsort(angles)
    cum = np.cumsum(np.array(weights, dtype=float)[order])
    median = float(np.array(angles)[order][np.searchsorted(cum, cum[-1] / 2)])
    return median if abs(median) <= MAX_SKEW else 0.0


def rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate about the centre by `degrees` (image coordinates: positive turns a line whose
    right end is lower back to level), filling with white."""
    import cv2

    if abs(degrees) < 0.05:
        return image
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    border = (255, 255, 255) if image.ndim == 3 else 255
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=border)


def turn(image: np.ndarray, quarter_turns: int) -> np.ndarray:
    """Rotate by a multiple of 90° counter-clockwise."""
    return np.ascontiguousarray(np.rot90(image, quarter_turns % 4))
