"""Scanned renders of PDFs: what a unit's 签章版 预算公开 looks like after the scanner.

Each page is rendered with pypdfium2 at `dpi`, turned by a small random angle (seeded), tinted
like grey recycled paper with noise, JPEG-compressed, and the first page gets a red seal (ring,
five-pointed star, the unit's name on an arc; the ink multiplies over the print so the text
shows through) over part of the header. The pages become an image-only PDF — no text layer —
whose page size is the image's pixel size at `dpi`, so a reader recovers the dpi from it.

    write_scan("forms.pdf", "scan.pdf")                            # 200 dpi, ±1°, seal on page 1
    write_scan("forms.pdf", "low.pdf", dpi=100)                    # too coarse to read
    write_scan("forms.pdf", "turned.pdf", turn=90)                 # the page lies on its side
    write_scan("forms.pdf", "big.pdf", dpi=600, page_count=30)     # 30 pages, rendered once each
    write_scan(write_not_a_form(tmp / "prose.pdf"), "prose-scan.pdf")

The bad inputs of issue #15 are options rather than files: nothing here is committed as a
binary. A long scan repeats the source's pages: each distinct page is rendered and encoded
once and its JPEG is shared by every page that repeats it (a hand-written PDF, since Pillow's
PDF writer re-encodes every page), so a 600-dpi 30-page file takes seconds, not minutes.
"""
from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFont

SEAL_RED = (214, 32, 38)
SEAL_TEXT = "山西省投资促进局"
# Where the seal goes, as fractions of the page: over the right half of the title and the
# first rows of the table (项目名称, 主管部门及代码) of a landscape form.
SEAL_CENTER = (0.62, 0.20)
SEAL_DIAMETER_MM = 42.0
_CJK_FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
              "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
              "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
              "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


@dataclass
class ScanInfo:
    """What write_scan made, for the tests and the benchmark."""
    path: Path
    dpi: float
    page_count: int
    angles: list[float] = field(default_factory=list)      # degrees, per distinct source page
    seal_box: tuple[int, int, int, int] | None = None      # pixels on page 1: left, top, right, bottom
    page_px: list[tuple[int, int]] = field(default_factory=list)


# --------------------------------------------------------------------------- one page

def render_page(pdf_path, index: int, dpi: float) -> Image.Image:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        return pdf[index].render(scale=dpi / 72.0).to_pil().convert("RGB")
    finally:
        pdf.close()


def skew(img: Image.Image, angle: float) -> Image.Image:
    """Turn by `angle` degrees (counter-clockwise), keeping the size; new corners are white."""
    if not angle:
        return img
    return img.rotate(angle, resample=Image.BILINEAR, expand=False, fillcolor=(255, 255, 255))


def paper(img: Image.Image, rng: np.random.Generator, tint: int = 228, noise: float = 6.0) -> Image.Image:
    """Grey recycled paper: white becomes `tint` with a slow uneven shading, ink stays dark,
    and every pixel gets scanner noise (sd `noise`). PIL's C operations, so a 600-dpi page
    takes a fraction of a second."""
    w, h = img.size
    # Slow shading: a coarse random field blown up (a sheet never lies perfectly flat).
    coarse = np.clip(tint + rng.normal(0.0, 6.0, size=(6, 8)), 0, 255).astype(np.uint8)
    shade = Image.fromarray(coarse, "L").resize((w, h), Image.BICUBIC)
    out = ImageChops.multiply(img, Image.merge("RGB", (shade, shade, shade)))
    if noise:
        # Seeded grey noise around 128: a tile of odd size repeated (generating 33 million
        # normal variates for a 600-dpi page would take seconds; a repeat every 263 px is invisible).
        tile = np.clip(rng.normal(128.0, noise, size=(263, 257)), 0, 255).astype(np.uint8)
        reps = (-(-h // tile.shape[0]), -(-w // tile.shape[1]))
        grain = Image.fromarray(np.ascontiguousarray(np.tile(tile, reps)[:h, :w]), "L")
        out = ImageChops.add(out, Image.merge("RGB", (grain, grain, grain)), scale=1.0, offset=-128)
    return out


def _cjk_font(size: int):
    for path in _CJK_FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size, index=2 if path.endswith(".ttc") else 0)
    return None


def _star(cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    points = []
    for k in range(10):
        radius = r if k % 2 == 0 else r * 0.382
        angle = -math.pi / 2 + k * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return points


def seal_mask(diameter: int, text: str = SEAL_TEXT) -> Image.Image:
    """The seal's ink as an 8-bit mask (255 = full ink): ring, star and arc text."""
    size = diameter + 4
    mask = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(mask)
    c, r = size / 2, diameter / 2
    ring = max(2, round(diameter * 0.035))
    draw.ellipse((c - r, c - r, c + r, c + r), outline=255, width=ring)
    draw.polygon(_star(c, c, r * 0.30), fill=255)
    font = _cjk_font(max(8, round(diameter * 0.13)))
    if font is not None and text:
        span = math.radians(230)                       # the arc over the top
        text_r = r - ring - diameter * 0.09
        for i, ch in enumerate(text):
            theta = -math.pi / 2 - span / 2 + span * (i + 0.5) / len(text)
            glyph = Image.new("L", (font.size * 2, font.size * 2), 0)
            ImageDraw.Draw(glyph).text((font.size, font.size), ch, font=font, fill=255, anchor="mm")
            glyph = glyph.rotate(-math.degrees(theta) - 90, resample=Image.BILINEAR)
            x = c + text_r * math.cos(theta) - glyph.width / 2
            y = c + text_r * math.sin(theta) - glyph.height / 2
            mask.paste(255, (round(x), round(y)), glyph)
    return mask


def stamp(img: Image.Image, rng: np.random.Generator, center=SEAL_CENTER, dpi: float = 200,
          text: str = SEAL_TEXT, opacity: float = 0.8) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """Put the red seal on the page; returns the page and the seal's box in pixels.

    Ink multiplies: white paper under it turns red, black print stays black and readable —
    partially transparent, like a real stamp. The ink is uneven (strength varies by pixel)."""
    diameter = round(SEAL_DIAMETER_MM / 25.4 * dpi)
    mask = np.asarray(seal_mask(diameter, text), dtype=np.float32) / 255.0
    mask *= opacity * rng.uniform(0.75, 1.0, size=mask.shape).astype(np.float32)
    h, w = mask.shape
    left = round(center[0] * img.width - w / 2)
    top = round(center[1] * img.height - h / 2)
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + h, img.height), min(left + w, img.width)
    box = (x0, y0, x1, y1)
    a = np.asarray(img.crop(box), dtype=np.float32)
    m = mask[y0 - top:y1 - top, x0 - left:x1 - left, None]
    ink = np.asarray(SEAL_RED, dtype=np.float32) / 255.0
    a = a * (1.0 - m + m * ink)
    out = img.copy()
    out.paste(Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "RGB"), box[:2])
    return out, box


def jpeg(img: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality, optimize=False)
    return out.getvalue()


# --------------------------------------------------------------------------- a whole file

def scan_images(source, *, dpi: float = 200, max_angle: float = 1.0, seed: int = 0, seal: bool = True,
                turn: int = 0, pages: list[int] | None = None, noise: float = 6.0,
                seal_center=SEAL_CENTER, seal_text: str = SEAL_TEXT) -> tuple[list[Image.Image], ScanInfo]:
    """The scanned page images of `source` (its pages, or the 0-based `pages`), before JPEG.

    `turn`: 90, 180 or 270 — every page is turned by that much as well (a sheet fed sideways)."""
    import pypdfium2 as pdfium

    rng = np.random.default_rng(seed)
    angle_rng = random.Random(seed)
    with_count = pdfium.PdfDocument(str(source))
    count = len(with_count)
    with_count.close()
    chosen = list(range(count)) if pages is None else list(pages)
    images, info = [], ScanInfo(Path(), dpi, len(chosen))
    for k, index in enumerate(chosen):
        img = render_page(source, index, dpi)
        angle = angle_rng.uniform(-max_angle, max_angle) if max_angle else 0.0
        info.angles.append(angle)
        img = paper(skew(img, angle), rng, noise=noise)
        if seal and k == 0:
            img, info.seal_box = stamp(img, rng, seal_center, dpi, seal_text)
        if turn:
            img = img.rotate(turn, expand=True)        # counter-clockwise, like PIL
        images.append(img)
        info.page_px.append(img.size)
    return images, info


def write_scan(source, out, *, dpi: float = 200, quality: int = 80, page_count: int | None = None,
               **options) -> ScanInfo:
    """Write an image-only PDF scan of `source` at `out` (see the module docstring).

    `page_count`: that many pages, repeating the source's pages in order (each distinct page
    rendered and encoded once). Other options go to `scan_images`."""
    images, info = scan_images(source, dpi=dpi, **options)
    out = Path(out)
    info.path = out
    if page_count is None or page_count == len(images):
        # Pillow's PDF writer: one DCTDecode image per page, page size = pixels at `dpi`.
        decoded = [Image.open(io.BytesIO(jpeg(img, quality))) for img in images]  # the JPEG's artefacts
        decoded[0].save(out, "PDF", resolution=dpi, save_all=True, append_images=decoded[1:],
                        quality=quality)
    else:
        encoded = [(jpeg(img, quality), img.size) for img in images]
        order = [encoded[i % len(encoded)] for i in range(page_count)]
        _write_shared_jpeg_pdf(out, order, dpi)
        info.page_count = page_count
        info.page_px = [size for _, size in order]
    return info


def _write_shared_jpeg_pdf(out: Path, pages: list[tuple[bytes, tuple[int, int]]], dpi: float) -> None:
    """A minimal image-only PDF whose pages show the given JPEGs; a JPEG object that several
    pages show is stored once."""
    objects: list[bytes] = []                          # object n+1 is objects[n]

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")                                 # filled in at the end
    tree = add(b"")
    xobject: dict[int, int] = {}
    kids = []
    for data, (w, h) in pages:
        key = id(data)
        if key not in xobject:
            head = (f"<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace /DeviceRGB "
                    f"/BitsPerComponent 8 /Filter /DCTDecode /Length {len(data)} >>\nstream\n").encode()
            xobject[key] = add(head + data + b"\nendstream")
        pw, ph = w * 72.0 / dpi, h * 72.0 / dpi
        content = f"q {pw:.4f} 0 0 {ph:.4f} 0 0 cm /Im0 Do Q".encode()
        stream = add(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        kids.append(add((f"<< /Type /Page /Parent {tree} 0 R /MediaBox [0 0 {pw:.4f} {ph:.4f}] "
                         f"/Resources << /XObject << /Im0 {xobject[key]} 0 R >> >> "
                         f"/Contents {stream} 0 R >>").encode()))
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {tree} 0 R >>".encode()
    objects[tree - 1] = (f"<< /Type /Pages /Count {len(kids)} /Kids ["
                         + " ".join(f"{k} 0 R" for k in kids) + "] >>").encode()
    with open(out, "wb") as fh:
        fh.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for n, body in enumerate(objects, start=1):
            offsets.append(fh.tell())
            fh.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
        xref = fh.tell()
        fh.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
        fh.writelines(b"%010d 00000 n \n" % o for o in offsets)
        fh.write(b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
                 % (len(objects) + 1, catalog, xref))


# --------------------------------------------------------------------------- reading one back

def declared_dpi(pdf_path, index: int = 0) -> float:
    """The dpi an image-only page declares: its image's pixel width over the page's width in inches."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        page = pdf[index]
        width_pt = page.get_width()
        images = list(page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,)))
        if not images:
            raise ValueError("no image on the page")
        px, _ = images[0].get_px_size()
        return px * 72.0 / width_pt
    finally:
        pdf.close()


def page_text(pdf_path) -> list[str]:
    """pdfium's text layer of each page (empty for a scan)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        return [page.get_textpage().get_text_range() for page in pdf]
    finally:
        pdf.close()


# --------------------------------------------------------------------------- something that is not a form

def write_not_a_form(path, kind: str = "prose") -> Path:
    """A page of a 预算公开 that is not a 绩效目标申报表, drawn by pdfgen: `prose` (the 情况说明
    text) or `table` (项目支出预算表, a ruled table whose header says 项目名称 — close to a form
    for a reader that only looks for keywords)."""
    try:
        from tests import pdfgen
    except ImportError:
        import pdfgen

    path = Path(path)
    layout = pdfgen._layout({"full_document": True, "page_numbers": True})
    doc = pdfgen._Doc(path, layout)
    material = pdfgen._Material(doc, [pdfgen.make_form(), pdfgen.random_form(1)], layout)
    if kind == "prose":
        material.explanation_page(0)
    elif kind == "table":
        material.table_page([name for name, _ in pdfgen._TABLES].index("项目支出预算表（本年预算）"))
    else:
        raise ValueError("kind must be prose or table")
    doc.save()
    return path
