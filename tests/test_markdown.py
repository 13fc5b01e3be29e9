"""Comment injection: a pull request's names, SQL, ignore reasons and errors must render as
what they say, and do nothing else on GitHub.

The review of a hostile pull request (tests/hostile.py) goes through the whole pipeline on a
real PostgreSQL; its comment is parsed by cmark-gfm, GitHub's own Markdown parser, with its
tables, autolinks and raw HTML on, and nothing user-controlled may come out live.
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from bot.cli import main
from bot.markdown import ZWSP, code_span, fence, inline_text, prose, table_cell
from bot.render import COMMENT_MARKER
from tests.hostile import ERROR, FIELD_NAMES, IGNORE_REASON, ODD_NAME, SQL, build_hostile

# What the bundled templates write themselves; anything else came from user text.
OUR_TAGS = {
    "h2", "h3", "p", "ul", "li", "blockquote", "strong", "em", "code", "pre", "br", "sub", "hr",
    "details", "summary", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


def to_html(markdown: str) -> str:
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


class Page(HTMLParser):
    """The rendered comment: its tags, its text outside code, its code blocks, its table rows."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.open: list[str] = []
        self.text: list[str] = []
        self.blocks: list[str] = []
        self.rows: list[list[str]] = []
        self.unbalanced: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        if tag == "br":
            return
        self.open.append(tag)
        if tag == "pre":
            self.blocks.append("")
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th"):
            self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.unbalanced.append(tag)
            return
        self.open.pop()

    def handle_data(self, data: str) -> None:
        if "pre" in self.open:
            self.blocks[-1] += data
        elif "code" not in self.open:
            self.text.append(data)
        if (
            self.open
            and self.open[-1] in ("td", "th", "code")
            and self.rows
            and ("td" in self.open or "th" in self.open)
        ):
            self.rows[-1][-1] += data


@pytest.fixture(scope="module")
def comment(tmp_path_factory: pytest.TempPathFactory, pg_url: str) -> str:
    repo = tmp_path_factory.mktemp("hostile") / "project"
    base, head = build_hostile(repo)
    out = repo.parent / "review.md"
    args = ["analyze", "--repo", str(repo), "--base", base, "--head", head]
    args += ["--python", sys.executable, "--database-url", pg_url, "--output", str(out)]
    assert main(args) == 2  # 0011 fails to apply: an error, reviewed all the same
    return out.read_text()


def visible(text: str) -> str:
    return text.replace(ZWSP, "")


def test_the_marker_is_the_first_line_and_never_repeated(comment: str) -> None:
    assert comment.startswith(COMMENT_MARKER + "\n")
    assert comment.count(COMMENT_MARKER) == 1
    assert comment.count("<!--") == 1


def test_no_user_html_and_every_section_closes_where_ours_does(comment: str) -> None:
    page = Page(to_html(comment))
    assert set(page.tags) <= OUR_TAGS, set(page.tags) - OUR_TAGS
    assert page.unbalanced == [] and page.open == []
    # One <details> per folded migration and one for the error details: none closed early.
    assert page.tags.count("details") == comment.count("<details><summary>")


def test_no_mention_reference_or_autolink_in_the_rendered_text(comment: str) -> None:
    text = "".join(Page(to_html(comment)).text)
    assert not re.search(r"@\w", text), re.findall(r".{20}@\w+", text)
    assert not re.search(r"#\d|\bGH-\d", text, re.IGNORECASE)
    # ...and yet every hostile name reads as written.
    for name in FIELD_NAMES:
        assert f"Add field {name} to customer" in visible(text)
    assert f"“{IGNORE_REASON}”" in visible(text)
    assert "RuntimeError: " + " ".join(ERROR.split()) in visible(text)


def test_code_blocks_hold_the_user_text_whole_and_end_where_they_should(comment: str) -> None:
    page = Page(to_html(comment))
    blocks = [visible(b) for b in page.blocks]
    assert any(SQL + ";" in b for b in blocks), "the RunSQL with ``` inside stays in its block"
    traceback = next(b for b in blocks if b.startswith("Traceback"))
    assert traceback.rstrip().endswith(f"RuntimeError: {ERROR}")
    # Nothing after a user's ``` became code: the table and the footer are rendered.
    assert page.tags.count("table") == 1
    last_sub = len(page.tags) - page.tags[::-1].index("sub")
    assert "pre" not in page.tags[last_sub:]
    assert "".join(page.text).rstrip().endswith("UTC")


def test_table_rows_keep_their_six_cells(comment: str) -> None:
    rows = Page(to_html(comment)).rows
    assert len(rows) == 1 + 13
    assert all(len(row) == 6 for row in rows), [r for r in rows if len(r) != 6]
    assert any(row[0].startswith(f"shop.{ODD_NAME}") for row in rows)


@pytest.mark.parametrize(
    "text",
    ["plain", "a`b", "``x``", "`", "@someone #1 </details>", "a|b", COMMENT_MARKER],
)
def test_each_filter_renders_the_text_it_is_given(text: str) -> None:
    """Unit check of the filters on their own: what renders is exactly the input."""
    para = Page(to_html(f"x {inline_text(text)} y"))
    assert visible("".join(para.text)) == f"x {text} y\n"
    span = Page(to_html(code_span(text)))
    assert span.tags == ["p", "code"]
    block = Page(to_html(fence(text + "\n```\nafter", "sql") + "\nout\n"))
    assert visible(block.blocks[0]) == text + "\n```\nafter\n"
    assert "".join(block.text).strip() == "out"
    row = Page(to_html(f"| a | b |\n|---|---|\n| {table_cell(code_span(text))} | z |\n"))
    assert [visible(c) for c in row.rows[1]] == [" ".join(text.split()), "z"]


def test_prose_closes_a_fence_its_user_values_left_open() -> None:
    text = prose("The safer form:\n\n```sql\nSELECT 1; -- @x") + "\n\nafter @y\n"
    page = Page(to_html(text))
    assert page.blocks == ["SELECT 1; -- @x\n"]
    assert "after @y" in "".join(page.text)
