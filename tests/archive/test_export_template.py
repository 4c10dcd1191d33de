"""The user's own export template: the documented variables, and nothing else in reach."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.conf import settings
from django.test import SimpleTestCase

from archive import export_template as et
from archive.formats.document import Document, Highlight


def render(source: str, doc: Document | None = None) -> str:
    return et.render(et.compile_template(source), doc or et.SAMPLE_DOCUMENT)


def error_of(source: str, doc: Document | None = None) -> et.ExportTemplateError:
    checked = et.check(source, doc)
    assert checked.error is not None, f"{source!r} was accepted"
    return checked.error


class SandboxTests(SimpleTestCase):
    def test_it_renders_the_documented_variables(self) -> None:
        output = render(
            "{{ name }}|{{ title }}|{{ author }}|{{ authors|join:';' }}|{{ category }}|{{ origin }}|"
            "{{ saved_at|date:'Y-m-d H:i' }}|{{ published_at|date:'Y' }}|{{ tags|join:',' }}|{{ extra.status }}|"
            "{{ highlight_count }}{% for h in highlights %}|{{ h.number }}:{{ h.location_kind }} {{ h.location }}"
            "{% if h.favorite %}*{% endif %}{% endfor %}"
        )
        assert output == (
            "On Keeping Notes|On Keeping Notes|Marginalia Smith & A. N. Other|Marginalia Smith;A. N. Other|articles|"
            "reader|2024-03-02 13:19|2024|notes,reading|read|2|1:page 12*|2: "
        )

    def test_it_documents_every_variable_it_passes(self) -> None:
        context = et.context_for(et.SAMPLE_DOCUMENT)
        documented = {name for name, _ in et.VARIABLES}
        assert set(context) == {name for name in documented if "." not in name}
        assert {f"highlight.{key}" for key in context["highlights"][0]} == {n for n in documented if "." in n}

    def test_it_writes_markdown_not_html(self) -> None:
        doc = dataclasses.replace(et.SAMPLE_DOCUMENT, title="<b>Fish & Chips</b> \"quoted\" 'x'")
        assert render("{{ title }}", doc) == "<b>Fish & Chips</b> \"quoted\" 'x'"

    def test_it_keeps_settings_and_secrets_out_of_reach(self) -> None:
        for source in (
            "{{ settings.SECRET_KEY }}",
            "{{ SECRET_KEY }}",
            "{{ request.META }}",
            "{{ user.password }}",
            "{{ csrf_token }}",
            "{{ view }}",
            "{{ perms }}",
            "{{ saved_at.tzinfo }}",
        ):
            output = render(source)
            assert settings.SECRET_KEY not in output
            assert output in {"", "None", "dict_items([('status', 'read'), ('rating', 5)])"}, source
        assert "Variables and attributes may not begin with underscores" in str(error_of("{{ title.__class__ }}"))
        assert "underscores" in str(error_of("{{ highlights.0._meta }}"))

    def test_it_refuses_tags_that_reach_outside_with_the_line(self) -> None:
        for line, tag in enumerate(("load", "include", "extends", "debug", "url", "csrf_token", "block", "lorem"), 1):
            source = "\n" * (line - 1) + f"{{% {tag} 'x' %}}"
            error = error_of(source)
            assert error.line == line
            assert str(error).startswith(f"line {line}: {{% {tag} %}} is not allowed")
        assert "tag libraries cannot be loaded" in str(error_of("{% load static %}{% static 'x' %}"))

    def test_it_has_no_loaders_and_no_libraries(self) -> None:
        assert et.ENGINE.loaders == []
        assert et.ENGINE.template_libraries == {}
        assert et.ENGINE.template_builtins == [et.LIBRARY]
        assert et.ENGINE.autoescape is False
        assert "load" not in et.LIBRARY.tags and "include" not in et.LIBRARY.tags
        assert "pprint" not in et.LIBRARY.filters and "ljust" not in et.LIBRARY.filters

    def test_it_names_the_line_of_a_syntax_error(self) -> None:
        error = error_of("# {{ name }}\n\n{% for h in highlights %}\n{{ h.text }}\n")
        assert error.line == 3
        assert "endfor" in error.message
        error = error_of("ok\n{% bogus %}")
        assert (error.line, error.message) == (2, "Invalid block tag: 'bogus'.")
        error = error_of("{{ name|nosuchfilter }}")
        assert (error.line, error.message) == (1, "Invalid filter: 'nosuchfilter'")

    def test_it_names_the_line_of_an_error_while_rendering(self) -> None:
        error = error_of("a\nb\n{{ highlight_count|divisibleby:0 }}")
        assert error.line == 3
        error = error_of("{% for a, b in highlights %}{% endfor %}")
        assert error.line == 1 and "unpack" in error.message

    def test_it_stops_runaway_loops_and_huge_values(self) -> None:
        doc = dataclasses.replace(et.SAMPLE_DOCUMENT, title="x" * 100)
        nested = "{% for a in title %}{% for b in title %}{% for c in title %}.{% endfor %}{% endfor %}{% endfor %}"
        assert "loops take more than" in str(error_of(nested, doc))
        doubling = "{% with a=title|add:title %}" * 1 + "{{ a }}{% endwith %}"
        assert render(doubling, doc) == "x" * 200
        big = dataclasses.replace(et.SAMPLE_DOCUMENT, title="y" * 5000)
        assert "|join would make a value longer" in str(error_of("{{ title|make_list|join:title }}", big))
        huge = dataclasses.replace(et.SAMPLE_DOCUMENT, title="z" * (et.MAX_VALUE_CHARS // 2 + 1))
        assert "|add made a value longer" in str(error_of("{{ title|add:title }}", huge))

    def test_it_cannot_change_the_document(self) -> None:
        doc = dataclasses.replace(et.SAMPLE_DOCUMENT, highlights=[Highlight(text="a")], extra={"k": [1]})
        render("{{ highlights.pop }}{{ extra.clear }}{{ extra.k.pop }}{{ tags.clear }}", doc)
        assert [h.text for h in doc.highlights] == ["a"]
        assert doc.extra == {"k": [1]}

    def test_it_offers_markdown_filters(self) -> None:
        doc = Document(
            title="T",
            tags=["a b", "c"],
            extra={"when": "now"},
            highlights=[Highlight(text="one\n\ntwo", note="n1\nn2")],
        )
        assert render("{{ highlights.0.text|quote }}", doc) == "> one\n>\n> two"
        assert render("- {{ highlights.0.note|indent:4 }}", doc) == "- n1\n    n2"
        assert render("{{ tags|wikilinks }} {{ tags|hashtags }}", doc) == "[[a b]] [[c]] #a-b #c"
        assert render("{{ title|json }} {{ tags|json }} {{ extra|json }}", doc) == '"T" ["a b", "c"] {"when": "now"}'

    def test_it_ships_a_starter_template_that_works(self) -> None:
        output = render(et.STARTER_TEMPLATE)
        assert output.startswith('---\ntitle: "On Keeping Notes"\nauthor: "Marginalia Smith & A. N. Other"\n')
        assert "> A commonplace book is a conversation with yourself.\n> It grows. ([View Highlight](" in output
        assert "- Note: Yes.\n  And it answers back.\n- Tags: [[favourite idea]]" in output

    def test_it_renders_a_document_without_dates_or_highlights(self) -> None:
        assert render(
            "{{ saved_at|date:'Y' }}|{% for h in highlights %}x{% empty %}none{% endfor %}", Document("t")
        ) == ("|none")

    def test_it_refuses_a_template_too_long_to_be_one(self) -> None:
        assert "longer than" in str(error_of("x" * (et.MAX_TEMPLATE_CHARS + 1)))


@pytest.mark.parametrize("when", [dt.datetime(2024, 1, 1, 12, 0), dt.datetime(2024, 1, 1, 12, 0, tzinfo=dt.UTC)])
def test_it_formats_naive_and_aware_dates(when: dt.datetime) -> None:
    assert render("{{ saved_at|date:'Y-m-d H:i' }}", Document("t", saved_at=when)) == "2024-01-01 12:00"
