"""A confirmation step for destructive buttons, on the server so it works without JavaScript.

A destructive form posts to its own endpoint as before; without `confirm=yes` the
endpoint answers with a page that says what will happen and repeats the post with
`confirm=yes`. Nothing changes until that second post.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from web.rendering import Zoned, render_page

TEMPLATE = "components/confirm.html"


def confirmed(request: HttpRequest) -> bool:
    return request.POST.get("confirm") == "yes"


def confirm_page(
    request: HttpRequest,
    *,
    project: Zoned,
    title: str,
    consequences: list[str],
    button: str,
    cancel_url: str,
    keep: dict[str, str] | None = None,
) -> HttpResponse:
    """The question before a destructive post; `keep` holds the posted fields to send again."""
    context = {
        "title": title,
        "consequences": consequences,
        "button": button,
        "cancel_url": cancel_url,
        "keep": sorted((keep or {}).items()),
    }
    return render_page(request, TEMPLATE, context, project=project)
