"""The citizen report form. It only parses what the browser sent; the rules are those of
submit_report, the same as for the API, and its errors are placed back on these fields."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from gis.models import Area, in_language
from incidents.models import Category, CategoryAttribute

# Service error keys → form field names.
SERVICE_FIELDS = {"location": "lat", "location_accuracy_m": "lat", "reporter.name": "name",
                  "reporter.email": "email", "reporter.phone": "phone", "ward": "ward"}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        return [super(PhotosField, self).clean(f, initial) for f in files]


def _value_label(value: dict) -> str:
    return in_language(value.get("name_vi") or str(value["key"]), value.get("name_en", ""))


def attribute_field(attribute: CategoryAttribute) -> forms.Field:
    """A form field for one Open311 attribute. Whether it is required is checked by the
    service (only the chosen category's attributes apply); the label shows it."""
    label = attribute.name + (" *" if attribute.required else "")
    kind = CategoryAttribute.Datatype
    choices = [(str(v["key"]), _value_label(v)) for v in attribute.values]
    if attribute.datatype == kind.NUMBER:
        return forms.FloatField(label=label, required=False, min_value=attribute.min_value,
                                max_value=attribute.max_value)
    if attribute.datatype == kind.DATETIME:
        return forms.CharField(label=label, required=False,
                               widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    if attribute.datatype == kind.SINGLEVALUELIST:
        return forms.ChoiceField(label=label, required=False, choices=[("", "—")] + choices)
    if attribute.datatype == kind.MULTIVALUELIST:
        return forms.MultipleChoiceField(label=label, required=False, choices=choices,
                                         widget=forms.CheckboxSelectMultiple)
    if attribute.datatype == kind.TEXT:
        return forms.CharField(label=label, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    return forms.CharField(label=label, required=False, max_length=200)


class ReportForm(forms.Form):
    category = forms.ChoiceField(label=_("What is the problem?"))
    lat = forms.FloatField(label=_("Latitude"), required=False,
                           widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))
    lon = forms.FloatField(label=_("Longitude"), required=False,
                           widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))
    location_accuracy_m = forms.FloatField(required=False, widget=forms.HiddenInput)
    ward = forms.ChoiceField(label=_("Or the ward (phường/xã)"), required=False)
    address = forms.CharField(label=_("Address or landmark"), required=False, max_length=400)
    description = forms.CharField(label=_("Describe the problem"), required=False, max_length=4000,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    photos = PhotosField(label=_("Photos (up to 3; JPEG, PNG or WebP, 10 MB each)"), required=False,
                         widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
    name = forms.CharField(label=_("Your name"), required=False, max_length=200)
    email = forms.CharField(label=_("E-mail"), required=False, max_length=254,
                            widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    phone = forms.CharField(label=_("Phone"), required=False, max_length=40,
                            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}))
    # Honeypot: hidden from people by CSS; a bot that fills it is refused.
    website = forms.CharField(label=_("Leave this field empty"), required=False,
                              widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}))

    def __init__(self, *args, categories: list[Category], wards: list[Area], **kwargs):
        super().__init__(*args, **kwargs)
        groups: dict[str, list] = {}
        for category in categories:
            groups.setdefault(category.group.name, []).append((category.code, category.name))
        self.fields["category"].choices = [("", _("Choose…"))] + list(groups.items())
        self.fields["ward"].choices = [("", "—")] + [(w.code, w.name) for w in wards]
        self.categories = categories
        self.attribute_sets = []  # (category, [bound fields]) for the template
        for category in categories:
            names = []
            for attribute in category.attributes.all():
                name = f"attr__{category.code}__{attribute.code}"
                self.fields[name] = attribute_field(attribute)
                names.append(name)
            self.attribute_sets.append((category, names))

    def bound_attribute_sets(self):
        return [(category, [self[name] for name in names]) for category, names in self.attribute_sets]

    def attributes_for(self, code: str) -> dict:
        prefix = f"attr__{code}__"
        values = {}
        for name, value in self.cleaned_data.items():
            if name.startswith(prefix) and value not in (None, "", []):
                values[name[len(prefix):]] = value
        return values

    def error_summary(self) -> list[dict]:
        """Each field error as {id, label, message}: the summary at the top of the form links
        to the field (by the id its label points at), in the order of the form."""
        items = []
        for name, field in self.fields.items():
            for message in self.errors.get(name, []):
                bound = self[name]
                items.append({"id": bound.id_for_label or bound.auto_id, "message": message,
                              "label": str(field.label or "").rstrip(" *")})
        return items

    def add_service_errors(self, errors: dict[str, list[str]], category_code: str) -> None:
        for key, messages in errors.items():
            if key.startswith("attributes."):
                field = f"attr__{category_code}__{key.split('.', 1)[1]}"
            else:
                field = SERVICE_FIELDS.get(key, key)
            for message in messages:
                self.add_error(field if field in self.fields else None, message)


class SupportForm(forms.Form):
    email = forms.EmailField(label=_("E-mail to follow updates (optional)"), required=False, max_length=254)


class ReopenForm(forms.Form):
    comment = forms.CharField(label=_("What is still wrong?"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
