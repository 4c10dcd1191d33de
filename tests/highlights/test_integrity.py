"""A highlight's source and reader: what the database and the admin hold to."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from highlights.models import Highlight
from tests.factories import make_highlight, make_source, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_highlight_needs_a_source_that_exists() -> None:
    ada = make_user()
    source = make_source(ada)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_highlight(source)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE highlights_highlight SET source_id = source_id + 1000")
    assert not Highlight.objects.exists()


def test_a_highlight_goes_with_its_reader() -> None:
    ada = make_user()
    make_highlight(make_source(ada))
    ada.delete()
    assert not Highlight.objects.exists()


def test_the_admin_says_so_when_a_highlight_is_moved_to_another_readers_source(client) -> None:  # noqa: ANN001
    ada, bob = make_user(), make_user()
    highlight = make_highlight(make_source(ada))
    theirs = make_source(bob)
    client.force_login(make_user(is_staff=True, is_superuser=True))
    url = f"/admin/highlights/highlight/{highlight.pk}/change/"
    form = {
        "user": ada.pk,
        "source": theirs.pk,
        "position": 0,
        "text": highlight.text,
        "location_kind": "",
    }
    response = client.post(url, form)
    assert response.status_code == 200  # the form again, not a 500 and not a redirect
    assert "another reader" in response.content.decode()
    highlight.refresh_from_db()
    assert highlight.source_id != theirs.pk
