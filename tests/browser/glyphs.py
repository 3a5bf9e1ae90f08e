"""Find characters on a page that no installed font can draw (each would show as a box).

Chromium finds its fonts through fontconfig, so ``fc-list :charset=HEX`` answers, for this
machine, whether any font has the character; a screenshot taken here shows a box for exactly
the characters that have none.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import cache

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

_SCRIPT = """
const parts = [document.title, document.body ? document.body.innerText : ""];
for (const el of document.querySelectorAll("input[type=text], input:not([type]), textarea")) {
  parts.push(el.value || "", el.placeholder || "");
}
return parts.join("\\n");
"""


@cache
def has_glyph(char: str) -> bool:
    """Tell whether an installed font covers ``char``."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        pytest.fail("fc-list (fontconfig) is missing; Chromium needs it, install fontconfig")
    found = subprocess.run(
        [fc_list, f":charset={ord(char):x}", "family"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return bool(found.stdout.strip())


def missing_glyphs(driver: WebDriver) -> list[str]:
    """Return the characters of the page's visible text that no installed font draws."""
    text: str = driver.execute_script(_SCRIPT)
    chars = sorted({c for c in text if not c.isspace() and ord(c) >= 0x80})
    return [f"{c} (U+{ord(c):04X})" for c in chars if not has_glyph(c)]
