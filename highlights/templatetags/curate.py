"""Template helpers of the curating controls (templates/highlights/_highlight_actions.html and friends).

`{% here as back %}`: the address of the page the reader is looking at, for a form's `next`.
`{% curate_urls item "h" as urls %}`: the addresses of a highlight's ("h"), a source's ("s") or
a tag's ("t") actions. A page shows fifty highlights with several actions each; reversing each address would
cost a quarter of the page's time, so each route is reversed once and the id put into it.
"""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.urls import get_script_prefix, reverse

from config.reversing import reverse_pk

register = template.Library()

SENTINEL = 987654321987
ROUTES = {
    "h": {
        "tag_add": "highlights:highlight_tag_add",
        "tag_remove": "highlights:highlight_tag_remove",
        "favorite": "highlights:favorite",
        "note": "highlights:note",
    },
    "s": {
        "tag_add": "highlights:source_tag_add",
        "tag_remove": "highlights:source_tag_remove",
        "note": "highlights:source_note",
    },
    "t": {"edit": "highlights:tag_edit"},
}


@lru_cache(maxsize=64)
def _patterns(kind: str, prefix: str) -> dict[str, tuple[str, str]]:
    """Each route of `kind` split around where its id goes (`prefix`: the script prefix, as
    reverse() reads it per request)."""
    patterns = {}
    for name, route in ROUTES[kind].items():
        before, _, after = reverse(route, args=[SENTINEL]).partition(str(SENTINEL))
        patterns[name] = (before, after)
    patterns["suggest"] = (reverse("highlights:tag_suggest"), "")
    return patterns


@register.simple_tag
def curate_urls(item: object, kind: str) -> dict[str, str]:
    """The action URLs, and the strings the controls' ids are made of: `id` (the pk as text, so
    the template does not localise a number each time), `key` ("h-12"), `region` (the id of the
    element the actions replace) and `noun`."""
    pk = str(getattr(item, "pk", item))
    patterns = _patterns(kind, get_script_prefix())
    urls = {name: f"{before}{pk}{after}" for name, (before, after) in patterns.items()}
    urls["suggest"] = patterns["suggest"][0]
    urls["id"] = pk
    urls["key"] = f"{kind}-{pk}"
    urls["region"] = {"h": f"curate-h-{pk}", "s": f"tags-s-{pk}", "t": f"tag-row-{pk}"}[kind]
    urls["noun"] = {"h": "highlight", "s": "source", "t": "tag"}[kind]
    return urls


@register.simple_tag(takes_context=True)
def here(context: template.Context) -> str:
    """`next_url` when the view gave one, else the page's own address (for an htmx request, the
    address of the page that made it, not of the fragment)."""
    if next_url := context.get("next_url"):
        return str(next_url)
    request = context.get("request")
    if request is None:
        return ""
    htmx = getattr(request, "htmx", None)
    if htmx and htmx.current_url_abs_path:
        return str(htmx.current_url_abs_path)
    return str(request.get_full_path())


@register.simple_tag
def route(name: str, pk: object) -> str:
    """`{% url name pk %}` for a route taking one id, without resolving the URL tree each time."""
    return reverse_pk(name, pk)
