"""The HTML savings report read back: a headless Chromium that draws it, and just enough of a
DOM to check what it drew."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser

import pytest

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    # Debian's chromium 156.0.8078.114 (a security update) starts a GPU process even so, whose
    # own sandbox is refused as root in a container: it exits and takes the browser with it
    "--disable-gpu-sandbox",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-extensions",
    "--no-first-run",
    "--force-color-profile=srgb",
    "--virtual-time-budget=5000",
)


# ---- reading documents ------------------------------------------------------------------------
class Dom(HTMLParser):
    """Just enough of a DOM: every element's attributes, the chart marks with their enclosing
    <svg> id and <title> text, the text inside each <svg>, and the embedded stats JSON."""

    MARKS = ("rect", "path", "circle")

    def __init__(self, document: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.marks: list[dict[str, str]] = []
        self.svg_text: dict[str, list[str]] = {}
        self.text: list[str] = []
        self.stats_json = ""
        self._svgs: list[str] = []
        self._mark: dict[str, str] | None = None
        self._in_title = False
        self._in_json = False
        self.feed(document)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.elements.append((tag, values))
        if tag == "svg":
            self._svgs.append(values.get("id", ""))
            self.svg_text.setdefault(self._svgs[-1], [])
        elif tag in self.MARKS and "data-series" in values and self._svgs:
            self._mark = {"svg": self._svgs[-1], "tag": tag, "title": "", **values}
            self.marks.append(self._mark)
        elif tag == "title" and self._svgs:
            self._in_title = True
        elif tag == "script" and values.get("id") == "ocp-stats":
            self._in_json = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg" and self._svgs:
            self._svgs.pop()
        elif tag in self.MARKS:
            self._mark = None
        elif tag == "title":
            self._in_title = False
        elif tag == "script":
            self._in_json = False

    def handle_data(self, data: str) -> None:
        if self._in_json:
            self.stats_json += data
            return
        self.text.append(data)
        if self._svgs:
            self.svg_text[self._svgs[-1]].append(data)
        if self._in_title and self._mark is not None:
            self._mark["title"] += data

    def tags(self, name: str) -> list[dict[str, str]]:
        return [attrs for tag, attrs in self.elements if tag == name]

    def body(self) -> dict[str, str]:
        (body,) = self.tags("body")
        return body

    def chart(self, svg_id: str) -> list[dict[str, str]]:
        return [m for m in self.marks if m["svg"] == svg_id]

    def all_text(self) -> str:
        return " ".join(" ".join(self.text).split())


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "Chromium is needed to test the HTML stats report in a real browser: "
            "apt-get install chromium"
        )
    return found
