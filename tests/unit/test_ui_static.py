"""The web UI's static code: no HTML sinks, every module import resolves, no inline script."""

from __future__ import annotations

import re

from services.api.ui import _LOGIN, _SHELL, CSP, STATIC_DIR

SINKS = ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
         "new Function", "setAttribute(\"on", "javascript:")


def test_no_module_writes_markup_or_evaluates_strings() -> None:
    """Data reaches the page only as text: no module uses an HTML or code sink."""
    modules = sorted(STATIC_DIR.rglob("*.js"))
    assert len(modules) >= 10
    for module in modules:
        text = module.read_text()
        for sink in SINKS:
            assert sink not in text, f"{module.name} uses {sink}"


def test_every_relative_import_resolves() -> None:
    """Each `import ... from "./x.js"` names a file that exists (no build step to catch it)."""
    for module in STATIC_DIR.rglob("*.js"):
        for target in re.findall(r'from\s+"(\.{1,2}/[^"]+)"', module.read_text()):
            assert (module.parent / target).resolve().is_file(), (module.name, target)


def test_pages_load_only_same_origin_code() -> None:
    """The shell and the sign-in page have no inline script or style, and the policy forbids
    them: scripts and styles come from this origin only."""
    for page in (_SHELL, _LOGIN):
        assert "<script>" not in page and "style=" not in page and "<style" not in page
    assert "script-src 'self'" in CSP and "unsafe" not in CSP
    assert "default-src 'none'" in CSP
