"""Preview links: show one nudge or survey on the site to whoever follows the link, recording nothing.

The link is the page's address with `sl_preview=<token>`; the token is signed with
the site's secret (Django's signing, salted for this purpose) and names the project,
the kind and the object, so it cannot be forged or pointed at another project, and it
expires after PREVIEW_MAX_AGE. The snippet sends it with decide; decide adds the entry
marked `"preview": true` whatever its status, segments, holdout or frequency, and on
any page; the snippet shows a preview entry but sends none of its events, so no
exposure, click or answer is ever counted.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.core import signing

from interventions.models import Nudge, Survey
from interventions.targeting import nudge_entry, public_entry, survey_entry

SALT = "sightline.interventions.preview"
PREVIEW_MAX_AGE = 24 * 3600  # seconds
PARAMETER = "sl_preview"
MAX_TOKEN_LENGTH = 500


def preview_token(*, kind: str, obj: Nudge | Survey) -> str:
    return signing.dumps({"p": obj.project_id, "k": kind, "i": obj.pk}, salt=SALT)


def preview_link(*, page_url: str, token: str) -> str:
    """The page's address with the token added to its query (other parameters kept)."""
    parts = urlsplit(page_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != PARAMETER]
    query.append((PARAMETER, token))
    return urlunsplit(parts._replace(query=urlencode(query)))


def preview_entry(*, project_id: int, token: object) -> tuple[str, dict] | None:
    """(kind, entry for the snippet) for a valid token of this project; None for anything else."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        data = signing.loads(token, salt=SALT, max_age=PREVIEW_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("p") != project_id:
        return None
    kind, object_id = data.get("k"), data.get("i")
    model = {"nudge": Nudge, "survey": Survey}.get(kind)
    if model is None or not isinstance(object_id, int):
        return None
    obj = model.objects.filter(project_id=project_id, pk=object_id).prefetch_related("segments").first()
    if obj is None:
        return None
    entry = nudge_entry(obj) if kind == "nudge" else survey_entry(obj)
    # on whatever page the link opens; never held out
    return kind, {**public_entry(kind, entry), "url": "", "preview": True}
