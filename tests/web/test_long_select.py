"""The select written out in Python gives the markup Django's template would."""

from __future__ import annotations

import pytest
from django import forms
from django.test.html import parse_html

from tracking.forms import ProjectSettingsForm
from web.forms import LongSelect

CHOICES = [
    ("Group <1>", [("1", "one & <two>"), ("2", "two")]),
    ("3", 'th"ree'),
    ("2", "two again"),
    ("", "none"),
]


def _same(html: str):
    """The markup as a tree: attributes in any order, white space between tags ignored."""
    return parse_html(html)


@pytest.mark.parametrize("value", ["2", "3", "", "missing", None])
@pytest.mark.parametrize("multiple", [False, True])
def test_the_markup_is_djangos(value, multiple):
    field = forms.MultipleChoiceField if multiple else forms.ChoiceField
    widget = forms.SelectMultiple if multiple else forms.Select
    long_widget = (
        type("LongMultiple", (LongSelect,), {"allow_multiple_selected": True}) if multiple else LongSelect
    )

    class Form(forms.Form):
        django = field(choices=CHOICES, widget=widget(attrs={"class": "wide"}))
        ours = field(choices=CHOICES, widget=long_widget(attrs={"class": "wide"}))

    data = (
        {}
        if value is None
        else {"django": [value] if multiple else value, "ours": [value] if multiple else value}
    )
    form = Form(data=data or None)
    form.is_valid()
    ours = str(form["ours"]).replace('"ours"', '"x"').replace("id_ours", "id_x")
    assert _same(ours) == _same(str(form["django"]).replace('"django"', '"x"').replace("id_django", "id_x"))


def test_the_project_settings_select_their_zone():
    form = ProjectSettingsForm(data={"timezone": "Europe/Paris"})
    html = str(form["timezone"])
    assert '<option value="Europe/Paris" selected>Europe/Paris</option>' in html
    assert html.count(" selected") == 1 and html.count("<option") > 400
