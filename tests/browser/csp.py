"""Collect the Content-Security-Policy violations a page reports."""

# Runs before any page script (Playwright injects it outside the page's CSP): every
# violation is logged where the console listener below sees it.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("CSP violation: " + event.violatedDirective + " blocked " +
                (event.blockedURI || "inline") + " in " + event.sourceFile +
                ":" + event.lineNumber);
});
"""


def watch_csp(page) -> list[str]:
    """Return a list that fills with every CSP violation the page reports from now on."""
    violations: list[str] = []
    page.add_init_script(REPORT_VIOLATIONS)

    def _on_console(message) -> None:
        text = message.text
        if "Content Security Policy" in text or text.startswith("CSP violation"):
            violations.append(f"{page.url}: {text}")

    page.on("console", _on_console)
    return violations
