"""Template helpers of the curating controls (templates/highlights/_highlight_actions.html and friends).

`{% here as back %}`: the address of the page the reader is looking at, for a form's `next`.
`{% curate_urls item "h" as urls %}`: the addresses of a highlight's ("h"), a source's ("s") or
a tag's ("t") actions, put together by `config.reversing` (a page shows fifty highlights with
several actions each; reverse() for each would cost a quarter of the page's time), with `back`.
`{% csrf_input %}`: `{% csrf_token %}`, made once for all of a page's row forms.
"""

from __future__ import annotations

from urllib.parse import quote

from django import template
from django.template.defaulttags import CsrfTokenNode
from django.utils.safestring import SafeString

from config.reversing import reverse_pk, reverse_plain

register = template.Library()

ROUTES = {
    "h": {
        "tag_add": "highlights:highlight_tag_add",
        "tag_remove": "highlights:highlight_tag_remove",
        "favorite": "highlights:favorite",
        "note": "highlights:note",
        "edit": "highlights:edit",
        "delete": "highlights:delete",
    },
    "s": {
        "tag_add": "highlights:source_tag_add",
        "tag_remove": "highlights:source_tag_remove",
        "note": "highlights:source_note",
    },
    "t": {"edit": "highlights:tag_edit"},
}


@register.simple_tag(takes_context=True)
def curate_urls(context: template.Context, item: object, kind: str) -> dict[str, str]:
    """The action URLs, and the strings the controls are made of: `back` (the page to come back
    to, see `here`) and `back_q` (the same, for a query string), `id` (the pk as text, so the
    template does not localise a number each time), `key` ("h-12"), `region` (the id of the
    element the actions replace) and `noun`. Made once per item and page: a highlight's row asks
    twice (its actions, then Edit and Delete)."""
    pk = str(getattr(item, "pk", item))
    known = context.render_context.dicts[0].setdefault(_URLS, {})
    if (found := known.get((kind, pk, context.get("next_url")))) is not None:
        return found
    urls = {name: reverse_pk(route, pk) for name, route in ROUTES[kind].items()}
    urls["suggest"] = reverse_plain("highlights:tag_suggest")
    urls["back"], urls["back_q"] = _here_and_quoted(context)
    urls["id"] = pk
    urls["key"] = f"{kind}-{pk}"
    urls["region"] = {"h": f"curate-h-{pk}", "s": f"tags-s-{pk}", "t": f"tag-row-{pk}"}[kind]
    urls["noun"] = {"h": "highlight", "s": "source", "t": "tag"}[kind]
    known[(kind, pk, context.get("next_url"))] = urls
    return urls


@register.simple_tag(takes_context=True)
def here(context: template.Context) -> str:
    """`next_url` when the view gave one, else the page's own address (for an htmx request, the
    address of the page that made it, not of the fragment)."""
    return _here_and_quoted(context)[0]


def _here_and_quoted(context: template.Context) -> tuple[str, str]:
    """`here`, and `here` made safe for a query string: worked out once per page drawn (every
    row's forms ask), kept where {% include %} keeps its templates for the whole render."""
    next_url = context.get("next_url")
    known = context.render_context.dicts[0].setdefault(_HERE, {})
    if next_url not in known:
        address = _here(context, next_url)
        known[next_url] = (address, quote(address))
    return known[next_url]


_HERE = object()
_CSRF = object()
_URLS = object()


@register.simple_tag(takes_context=True)
def csrf_input(context: template.Context) -> SafeString:
    """`{% csrf_token %}`, made once per page drawn instead of once per form (a page of fifty
    highlights has two hundred forms, and each token costs more than the rest of its form)."""
    known = context.render_context.dicts[0]
    if _CSRF not in known:
        known[_CSRF] = CsrfTokenNode().render(context)
    return known[_CSRF]


def _here(context: template.Context, next_url: object) -> str:
    if next_url:
        return str(next_url)
    request = context.get("request")
    if request is None:
        return ""
    htmx = getattr(request, "htmx", None)
    if htmx and htmx.current_url_abs_path:
        return str(htmx.current_url_abs_path)
    return str(request.get_full_path())
