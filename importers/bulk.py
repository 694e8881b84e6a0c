"""A filled-in bulk-entry workbook (批量填报表) → the plain rows of the sheets the upload needs.

Untrusted: the web worker runs `read_sheets` in a limited child (importers.sandbox.run_untrusted)
and gets back only lists of tuples of plain values (str, int, float, bool, datetime, None),
which it validates and stores itself.

The child must refuse a hostile workbook cheaply, not after seconds of parsing, so nothing is
read whole that could be large:

* the archive's unpacked size is checked on its directory; the small parts that openpyxl parses
  whole (content types, workbook, its relationships, styles) each have a cap of their own;
* the shared strings and the two sheets are streamed, element by element, and the reading stops
  as soon as what the file actually holds crosses a cap: rows with values, the widest row,
  cells, rows with or without values, XML elements. A sheet's declared size (<dimension>) is
  never read: a file may claim two rows and hold a million. (openpyxl's own read-only mode
  reads it at load and, when it is missing, parses the whole sheet to find out: a 300 KB
  file can cost seconds there.)
  Reading stops at the end of <sheetData>: nothing after it is needed.

Cells are converted by openpyxl's own sheet parser (WorkSheetParser.parse_row, as its read-only
sheets do), so values are exactly what load_workbook(read_only=True, data_only=True) gives.
That parser and ExcelReader's steps are openpyxl 3.1 internals: the version is pinned in
requirements.txt and tests/test_bulk_entry.py reads real workbooks through them.

Every way a file can fail to be read ends as one Chinese line (UnreadableFile), including the
XML parser's refusals: expat stops entity expansion bombs ("billion laughs") and never fetches
external entities (XXE), but says so in English.
"""
from __future__ import annotations

import io

from openpyxl.cell.text import Text
from openpyxl.packaging.relationship import get_rels_path
from openpyxl.reader.excel import ExcelReader, _find_workbook_part
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import ARC_CONTENT_TYPES, ARC_STYLE, SHARED_STRINGS, SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse   # the one openpyxl uses (defusedxml's when installed)

from importers import UnreadableFile

MB = 1024 * 1024
MAX_DATA_ROWS = 5000                  # per sheet, under its header row
MAX_COLUMNS = 40                      # the sheet has 19; room for a few notes columns of one's own
MAX_CELLS = 200_000                   # all sheets read, every <c> counted, empty ones too
MAX_ROW_ELEMENTS = 20_000             # <row>s, with values or without (formatting only)
MAX_ELEMENTS = 1_000_000              # XML elements streamed; a full sheet has about 300,000
# A full sheet of 5000 rows unpacks to about 7 MB; styles of 4 MB take a second to parse.
MAX_UNPACKED_BYTES = 30 * MB
MAX_WHOLE_PART_BYTES = 4 * MB

MSG_NOT_XLSX = "不是 Excel（xlsx）文件：请上传从本页下载并填好的填报表"
MSG_UNREADABLE = "无法读取该 Excel 文件：文件已损坏或含有不安全内容（请上传从本页下载并填好的填报表）"

_ROW, _CELL, _SHEET_DATA, _STRING = (f"{{{SHEET_MAIN_NS}}}{tag}" for tag in ("row", "c", "sheetData", "si"))


def msg_too_big(title: str, rows: int, columns: int, limit: str) -> str:
    return f"工作簿过大：“{title}”表已读到 {rows} 行 × {columns} 列，超过上限（{limit}），请使用本页下载的填报表"


def msg_unpacked(what: str, size: int, limit: int) -> str:
    return f"工作簿过大：{what}解压后 {_mb(size)} MB，超过上限 {_mb(limit)} MB，不是正常的填报表"


def _mb(size: int) -> str:
    return f"{size / MB:.1f}".removesuffix(".0")


def msg_no_sheet(names) -> str:
    wanted = "和".join(f"“{name}”" for name in names)
    return f"不是本系统的填报表：缺少{wanted}工作表，请使用本页下载的填报表"


def read_sheets(data: bytes, names: tuple[str, ...]) -> dict[str, list[tuple]]:
    """The rows of each sheet in `names` that the workbook has, row 1 first, each row a tuple
    up to its last value (a row without values is an empty tuple). Raises UnreadableFile."""
    if not data.startswith(b"PK\x03\x04"):
        raise UnreadableFile(MSG_NOT_XLSX)
    try:
        return _read(data, names)
    except (UnreadableFile, MemoryError):
        raise                                            # the sandbox words MemoryError itself
    except Exception as exc:                             # zipfile, expat, openpyxl: many kinds
        raise UnreadableFile(MSG_UNREADABLE) from exc


def _read(data: bytes, names: tuple[str, ...]) -> dict[str, list[tuple]]:
    reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    try:
        _open(reader)
        parts = {sheet.name: rel.target for sheet, rel in reader.parser.find_sheets()
                 if rel.target in reader.valid_files}
        present = [name for name in names if name in parts]
        if not present:
            raise UnreadableFile(msg_no_sheet(names))
        budget = _Budget()
        strings = _shared_strings(reader, budget)
        return {name: _sheet_rows(reader, strings, parts[name], name, budget) for name in present}
    finally:
        reader.archive.close()


def _open(reader: ExcelReader) -> None:
    """ExcelReader.read's first steps, each part's size checked before it is parsed whole."""
    unpacked = sum(i.file_size for i in reader.archive.infolist())
    if unpacked > MAX_UNPACKED_BYTES:
        raise UnreadableFile(msg_unpacked("", unpacked, MAX_UNPACKED_BYTES))
    _small(reader, ARC_CONTENT_TYPES)
    reader.read_manifest()
    workbook = _find_workbook_part(reader.package).PartName[1:]
    _small(reader, workbook)
    _small(reader, get_rels_path(workbook))
    reader.read_workbook()
    _small(reader, ARC_STYLE)
    apply_stylesheet(reader.archive, reader.wb)


def _small(reader: ExcelReader, name: str) -> None:
    size = reader.archive.getinfo(name).file_size if name in reader.valid_files else 0
    if size > MAX_WHOLE_PART_BYTES:
        raise UnreadableFile(msg_unpacked(f"其中的“{name}”", size, MAX_WHOLE_PART_BYTES))


class _Budget:
    """Cells, rows and elements, counted over everything streamed."""

    def __init__(self):
        self.cells = self.rows = self.elements = 0

    def count(self, tag: str) -> str | None:
        """Count one element; the cap it crosses, if any."""
        self.elements += 1
        self.cells += tag == _CELL
        self.rows += tag == _ROW
        if self.cells > MAX_CELLS:
            return f"全部工作表最多 {MAX_CELLS} 个单元格"
        if self.rows > MAX_ROW_ELEMENTS:
            return f"全部工作表最多 {MAX_ROW_ELEMENTS} 行，空行也算"
        if self.elements > MAX_ELEMENTS:
            return "表中其他内容过多"
        return None


def _shared_strings(reader: ExcelReader, budget: _Budget) -> list[str]:
    """openpyxl's read_string_table, streamed under the budget."""
    part = reader.package.find(SHARED_STRINGS)
    if part is None:
        return []
    strings: list[str] = []
    with reader.archive.open(part.PartName[1:]) as src:
        for _event, node in iterparse(src):
            if budget.count(node.tag) or len(strings) > MAX_CELLS:
                raise UnreadableFile(f"工作簿过大：共享字符串超过上限（{MAX_CELLS} 个），请使用本页下载的填报表")
            if node.tag == _STRING:
                strings.append(Text.from_tree(node).content.replace("x005F_", ""))
                node.clear()
    return strings


def _sheet_rows(reader: ExcelReader, strings: list[str], path: str, title: str, budget: _Budget) -> list[tuple]:
    wb = reader.wb
    with reader.archive.open(path) as src:
        sheet = _Sheet(title, WorkSheetParser(src, strings, data_only=True, epoch=wb.epoch,
                                              date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats))
        for _event, element in iterparse(src):
            limit = budget.count(element.tag)
            if limit:
                sheet.refuse(sheet.parser.row_counter, limit)
            if element.tag == _ROW:
                sheet.add(element)
            elif element.tag == _SHEET_DATA:
                break
    return sheet.rows


class _Sheet:
    """The rows of one sheet so far."""

    def __init__(self, title: str, parser: WorkSheetParser):
        self.title, self.parser = title, parser
        self.rows: list[tuple] = []
        self.widest = 0

    def add(self, element) -> None:
        number, cells = self.parser.parse_row(element)
        element.clear()
        width = max((c["column"] for c in cells if c["value"] is not None), default=0)
        self.widest = max(self.widest, width)
        limit = _row_limit(number, width)
        if limit:
            self.refuse(number, limit)
        _place(self.rows, number, cells, width)

    def refuse(self, reached: int, limit: str):
        raise UnreadableFile(msg_too_big(self.title, reached, self.widest, limit))


def _row_limit(number: int, width: int) -> str | None:
    """A row beyond the caps; one without values (formatting only) is ignored, not refused."""
    if width and number > MAX_DATA_ROWS + 1:
        return f"每张表最多 {MAX_DATA_ROWS} 行数据"
    if width > MAX_COLUMNS:
        return f"每行最多 {MAX_COLUMNS} 列"
    return None


def _place(rows: list[tuple], number: int, cells: list[dict], width: int) -> None:
    """Row `number` at its place, missing rows before it as empty ones. A repeated or
    out-of-order row is skipped, as openpyxl's read-only sheets do; so is an empty one past
    the last row kept."""
    if number <= len(rows) or not width and number > MAX_DATA_ROWS + 1:
        return
    rows.extend([()] * (number - 1 - len(rows)))
    values = [None] * width
    for cell in cells:
        if cell["column"] <= width:
            values[cell["column"] - 1] = cell["value"]
    rows.append(tuple(values))
