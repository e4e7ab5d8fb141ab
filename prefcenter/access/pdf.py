"""The evidence page as a PDF, rendered by WeasyPrint from the same HTML and print CSS.

WeasyPrint is the optional ``pdf`` extra (``pip install "prefcenter[pdf]"``); it needs
Pango, which Debian's Chromium already brings, and a font (``fonts-dejavu-core``). Where it
cannot be imported the page offers no PDF and the address answers 501 with the reason;
the printable page works everywhere.
"""

from __future__ import annotations

from functools import cache


@cache
def pdf_unavailable_reason() -> str:
    """Empty when PDFs can be made; otherwise why not."""
    try:
        import weasyprint  # noqa: F401
    except ImportError:
        return 'WeasyPrint is not installed (pip install "prefcenter[pdf]").'
    except OSError as exc:  # Pango or its companions are missing
        return f"WeasyPrint cannot load its system libraries: {exc}"
    return ""


def html_to_pdf(html: str) -> bytes:
    import weasyprint

    return weasyprint.HTML(string=html).write_pdf()
