"""axe-core (the npm package, from node_modules) run inside a Playwright page: the page's
accessibility violations of any impact, as short readable lines. It is evaluated through the
DevTools protocol, which the pages' Content-Security-Policy does not apply to."""

from __future__ import annotations

from functools import cache
from pathlib import Path

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"


@cache
def _source() -> str:
    return AXE.read_text(encoding="utf-8")


def violations(page) -> list[str]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(_source())
    found = page.evaluate("""async () => {
        // target-size (WCAG 2.2, 24 px) is off in axe's defaults: on, for phones.
        const result = await axe.run(document, {resultTypes: ['violations'], rules: {'target-size': {enabled: true}}});
        return result.violations.map(v => v.impact + ' ' + v.id + ': ' + v.help + ' — ' +
            v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
    }""")
    return found
