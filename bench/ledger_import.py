"""Peak memory and time of reading a huge ledger upload (issue 14).

Writes an .xlsx of N instrument rows (default 500,000, shared strings, every
row the same, so it packs to a few MB like the probe's 2.5 MB file), then reads it in a fresh child process twice:

* ``bounded``: as the import does (``ledger.read_ledger`` with the default
  row limit and the archive's unpacked-size limit);
* ``unbounded``: both limits lifted, i.e. every row parsed as before the fix.

Each line prints the outcome (rows read or the refusal's code), seconds and
the child's peak RSS, beside the RSS of a child that only imported the
modules (the baseline). Figures, never assertions.

    .venv/bin/python bench/ledger_import.py [--rows 500000] [--skip-unbounded] [--unpacked-limit-mb 1000]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_STRINGS = ["资产编号", "仪器名称", "类别", "型号", "生产厂家", "原值（元）", "资金来源", "验收日期", "是否免税进口", "是否涉密", "存放地点", "主要技术指标", "主要功能",
            "液相色谱质谱联用仪", "分析仪器", "LCMS-8060", "岛津", "2000000.00", "全部财政", "2024-09-20", "否", "实验楼A301"]
_PARTS = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="仪器台账" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
    "xl/sharedStrings.xml": '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    + "".join(f"<si><t>{s}</t></si>" for s in _STRINGS)
    + "</sst>",
}
#: the shared-string index of each column's value in a data row (None: the asset number, inline)
_ROW = [None, 13, 14, 15, 16, 17, 18, 19, 20, 20, 21]


def write(path: Path, rows: int) -> None:
    """Rows and cells without their optional ``r`` references: every data row is
    the same bytes, so the file packs about 100:1 like the probe's."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, text in _PARTS.items():
            z.writestr(name, text)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            f.write(f'<dimension ref="A1:M{rows + 1}"/><sheetData>'.encode())  # as Excel writes it
            f.write(("<row>" + "".join(f'<c t="s"><v>{i}</v></c>' for i in range(13)) + "</row>").encode())
            cells = '<c t="inlineStr"><is><t>ZC-0000001</t></is></c>' + "".join(f'<c t="s"><v>{s}</v></c>' for s in _ROW if s is not None)
            row = f"<row>{cells}</row>".encode()
            for start in range(0, rows, 1000):
                f.write(row * min(1000, rows - start))
            f.write(b"</sheetData></worksheet>")


def _child(path: str, mode: str, unpacked_mb: str) -> None:
    from services.registry import ledger, ledger_files

    if mode == "baseline":
        print(f"baseline  {'-':>28} {0:8.1f} s {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:8.0f} MB")
        return
    data = Path(path).read_bytes()
    limit = ledger.DEFAULT_MAX_ROWS
    if unpacked_mb != "-":
        ledger_files.MAX_UNPACKED_BYTES = int(unpacked_mb) * 1024 * 1024
    if mode == "unbounded":
        ledger_files.MAX_UNPACKED_BYTES = 1 << 62
        limit = 1 << 62
    start = time.perf_counter()
    try:
        errors, valid = ledger.read_ledger(data, limit)
        outcome = f"read {len(valid)} rows, {len(errors)} errors"
    except ledger.LedgerFileError as exc:
        outcome = f"refused {exc.code}"
    took = time.perf_counter() - start
    print(f"{mode:<9} {outcome:>28} {took:8.1f} s {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:8.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=500_000)
    ap.add_argument("--unpacked-limit-mb", type=int, default=None, help="lift the archive's unpacked-size limit (MB) in the bounded run, to see the row limit at work")
    ap.add_argument("--skip-unbounded", action="store_true", help="do not run the slow read of every row")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.xlsx"
        write(path, args.rows)
        with zipfile.ZipFile(path) as z:
            unpacked = sum(i.file_size for i in z.infolist())
        print(f"{args.rows} rows: {path.stat().st_size / 1e6:.1f} MB on disk, {unpacked / 1e6:.0f} MB unpacked")
        print(f"{'mode':<9} {'outcome':>28} {'time':>10} {'peak RSS':>11}")
        modes = ["baseline", "bounded"] + ([] if args.skip_unbounded else ["unbounded"])
        for mode in modes:
            subprocess.run([sys.executable, __file__, "--child", str(path), mode, str(args.unpacked_limit_mb or "-")], check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})


if __name__ == "__main__":
    main()
