"""Hostile bulk-entry workbooks, written part by part as raw xlsx XML: sheets far larger than
any 填报表 that stay small on disk, lying dimensions, entity bombs (billion laughs, XXE).
openpyxl would need seconds to write a million cells; these take a fraction of one."""
from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
OFFICE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'

# Each entity ten of the one before: &lol9; is 10^9 "lol"s.
BILLION_LAUGHS = ('<!DOCTYPE worksheet [<!ENTITY lol0 "lol">' + "".join(
    f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)) + "]>", "&lol9;")
EXTERNAL_ENTITY = ('<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "&xxe;")


def text_row(values, row: int | None = None) -> str:
    """One row of inline strings (None: no cell)."""
    cells = "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' if v is not None else "<c/>" for v in values)
    reference = f' r="{row}"' if row else ""
    return f"<row{reference}>{cells}</row>"


def number_rows(count: int, width: int, value: str = "1") -> str:
    """`count` rows of `width` numbers each, without cell references: a few bytes a cell that
    compress to almost nothing."""
    row = "<row>" + f"<c><v>{value}</v></c>" * width + "</row>"
    return row * count


def xlsx(sheets: dict[str, str], *, doctype: str = "", dimension: str = "",
         shared_strings: str | None = None, extra_parts: dict[str, str] | None = None) -> bytes:
    """A workbook whose sheets (name → the rows inside <sheetData>) are given as raw XML;
    `doctype` goes before each sheet's root, `dimension` (e.g. "A1:S2") is each sheet's
    declared size, `shared_strings` the whole of xl/sharedStrings.xml, `extra_parts` more
    parts by name (e.g. xl/styles.xml)."""
    names = list(sheets)
    types = "".join(f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{OFFICE}.worksheet+xml"/>'
                    for n in range(1, len(names) + 1))
    book_rels = "".join(f'<Relationship Id="rId{n}" Type="{DOC_RELS}/worksheet" Target="worksheets/sheet{n}.xml"/>'
                        for n in range(1, len(names) + 1))
    if shared_strings is not None:
        types += f'<Override PartName="/xl/sharedStrings.xml" ContentType="{OFFICE}.sharedStrings+xml"/>'
        book_rels += f'<Relationship Id="rIdS" Type="{DOC_RELS}/sharedStrings" Target="sharedStrings.xml"/>'
    parts = {
        "[Content_Types].xml": (
            f'{HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            f'<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{OFFICE}.sheet.main+xml"/>{types}</Types>'),
        "_rels/.rels": (f'{HEAD}<Relationships xmlns="{RELS}"><Relationship Id="rId1" '
                        f'Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (
            f'{HEAD}<workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}"><sheets>' + "".join(
                f'<sheet name="{escape(name)}" sheetId="{n}" r:id="rId{n}"/>' for n, name in enumerate(names, 1))
            + "</sheets></workbook>"),
        "xl/_rels/workbook.xml.rels": f'{HEAD}<Relationships xmlns="{RELS}">{book_rels}</Relationships>',
    }
    if shared_strings is not None:
        parts["xl/sharedStrings.xml"] = shared_strings
    declared = f'<dimension ref="{dimension}"/>' if dimension else ""
    for n, rows in enumerate(sheets.values(), 1):
        parts[f"xl/worksheets/sheet{n}.xml"] = (f'{HEAD}{doctype}<worksheet xmlns="{MAIN}">{declared}'
                                                f"<sheetData>{rows}</sheetData></worksheet>")
    parts.update(extra_parts or {})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()


def unpacked_size(data: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return sum(i.file_size for i in archive.infolist())
