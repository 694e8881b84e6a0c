"""The 监控报告 as a .docx (python-docx): A4 portrait, the title, the unit and the date, the seven
sections with their tables (reads/monitoring_report.py `report_tables`, the same the pages print),
and the signature lines. Chinese text is set in 宋体 (SimSun; 黑体 for the headings) with the
eastAsia font named, so Word does not fall back to a Latin font for it."""
from __future__ import annotations

from io import BytesIO

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from domain import rules
from reads.monitoring_report import ReportPage, Table

BODY_FONT, HEADING_FONT = ("宋体", "SimSun"), ("黑体", "SimHei")
LIGHT_FILL = {rules.GREEN: "C6EFCE", rules.YELLOW: "FFEB9C", rules.RED: "FFC7CE", rules.GREY: "D9D9D9"}


def _font(run_or_style, font: tuple[str, str], size: float | None = None, bold: bool | None = None) -> None:
    """Name the font for Latin and East Asian text alike (python-docx sets only the Latin one)."""
    east_asian, latin = font
    run_or_style.font.name = latin
    r_pr = run_or_style.element.get_or_add_rPr()
    fonts = r_pr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        r_pr.insert(0, fonts)
    for attribute, name in (("w:ascii", latin), ("w:hAnsi", latin), ("w:eastAsia", east_asian)):
        fonts.set(qn(attribute), name)
    if size is not None:
        run_or_style.font.size = Pt(size)
    if bold is not None:
        run_or_style.font.bold = bold


def _paragraph(doc, text: str, *, font=BODY_FONT, size: float = 12, bold: bool = False, align=None, indent=True):
    paragraph = doc.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(size * 2)
    paragraph.paragraph_format.space_after = Pt(3)
    _font(paragraph.add_run(text), font, size, bold)
    return paragraph


def _shade(cell, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _cell_text(cell, text: str, *, bold: bool = False, align=None) -> None:
    paragraph = cell.paragraphs[0]
    if align is not None:
        paragraph.alignment = align
    _font(paragraph.add_run(text), BODY_FONT, 9, bold)


def _table(doc, table: Table) -> None:
    _paragraph(doc, table.caption, font=HEADING_FONT, size=10.5, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    if not table.rows:
        _paragraph(doc, table.empty, size=10.5)
        return
    grid = doc.add_table(rows=1, cols=len(table.head))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, heading in zip(grid.rows[0].cells, table.head):
        _cell_text(cell, heading, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        _shade(cell, "F2F2F2")
    for row in table.rows:
        cells = grid.add_row().cells
        for cell, value in zip(cells, row):
            _cell_text(cell, value.text, align=WD_ALIGN_PARAGRAPH.RIGHT if value.num else None)
            if value.light in LIGHT_FILL:
                _shade(cell, LIGHT_FILL[value.light])
    _repeat_header(grid)


def _repeat_header(grid) -> None:
    tr_pr = grid.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def report_docx(page: ReportPage, signed_on: str | None = None) -> bytes:
    """The .docx; `signed_on` is the submission's date as the users write it (None: blank)."""
    f = page.figures
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(25)
    section.top_margin = section.bottom_margin = Mm(22)
    _font(doc.styles["Normal"], BODY_FONT, 12)

    _paragraph(doc, page.title, font=HEADING_FONT, size=16, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    if page.state != "submitted":
        note = _paragraph(doc, f"（{page.state_label}）", size=10.5, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
        note.runs[0].font.color.rgb = RGBColor(0xC0, 0, 0)
    _paragraph(doc, f"实施单位：{f.unit.name}　　主管部门：{f.department_name}", size=10.5, indent=False)
    _paragraph(doc, f"监控期间：{f.round.year}年{f.span}　　{f.data_as_of}", size=10.5, indent=False)

    tables = page.tables
    for name, heading, text in page.sections:
        _paragraph(doc, heading, font=HEADING_FONT, size=14, indent=False)
        for line in (text.splitlines() or [""]):
            if line.strip():
                _paragraph(doc, line.strip())
        if name in tables:
            _table(doc, tables[name])

    doc.add_paragraph()
    for line in ("填报单位（盖章）：", "单位负责人：　　　　　　　　填报人：　　　　　　　　联系电话：",
                 "日期：" + (signed_on or "　　年　　月　　日")):
        _paragraph(doc, line, indent=False)
    out = BytesIO()
    doc.save(out)
    return out.getvalue()
