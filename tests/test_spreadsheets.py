"""Spreadsheet downloads (incubator/spreadsheets.py, used by every export): formula-looking text is
defused, CSV comes whole and in order however many chunks it is streamed in. Through the views:
tests/judging/test_judging_flows.py (a team named like a formula), tests/applications and tests/audit."""
import csv
import io

import pytest
from incubator.spreadsheets import csv_chunks, safe_cell


@pytest.mark.parametrize("value, written", [
    ("=1+2", "'=1+2"), ("+86 138", "'+86 138"), ("-3", "'-3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=cmd", "'\t=cmd"), ("\r=cmd", "'\r=cmd"),
    ("青创城", "青创城"), ("a=b", "a=b"), ("", ""), (-3, -3), (7.5, 7.5), (None, None),
])
def test_formula_looking_text_gets_a_leading_quote_and_nothing_else_changes(value, written):
    assert safe_cell(value) == written


def test_csv_streamed_in_chunks_is_the_whole_file_in_order():
    rows = [[i, f"项目{i}", "=HYPERLINK(\"x\")" if i % 1000 == 0 else "", round(i / 7, 2)] for i in range(20000)]
    chunks = list(csv_chunks(iter(rows), ["#", "名称", "备注", "分数"]))
    assert len(chunks) > 2 and all(isinstance(c, bytes) for c in chunks)
    text = b"".join(chunks).decode("utf-8")
    assert text.startswith("\ufeff")
    parsed = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert parsed[0] == ["#", "名称", "备注", "分数"] and len(parsed) == 20001
    assert parsed[1] == ["0", "项目0", "'=HYPERLINK(\"x\")", "0.0"]
    assert [r[0] for r in parsed[1:]] == [str(i) for i in range(20000)]


def test_rows_in_memory_make_one_body_and_rows_from_a_generator_stream(app):
    from incubator.spreadsheets import csv_response

    rows = [[i, "青创城"] for i in range(10)]
    with app.test_request_context():
        whole, streamed = csv_response("a.csv", rows, ["#", "名"]), csv_response("b.csv", iter(rows), ["#", "名"])
        assert not whole.is_streamed and streamed.is_streamed
        assert whole.get_data() == b"".join(streamed.response)
        assert whole.headers["Content-Disposition"] == 'attachment; filename="a.csv"'


def test_control_characters_are_dropped_so_an_xlsx_export_never_fails(app):
    """A judge's comment with a stray control byte (stored as typed) must not break the export."""
    import openpyxl

    from incubator.spreadsheets import xlsx_response

    assert safe_cell("ok\x01bad\x1f") == "okbad" and safe_cell("a\tb\nc") == "a\tb\nc"
    assert safe_cell("\x02=1+2") == "'=1+2"
    with app.test_request_context():
        response = xlsx_response("scores.xlsx", [["评委备注", "ok\x01bad"]], ["项", "值"])
        body = b"".join(response.response)
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    assert [c.value for c in sheet[2]] == ["评委备注", "okbad"]
