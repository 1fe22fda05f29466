"""Notebook pages: list and full-text search, a new entry, an entry (rendered Markdown, links,
attachments with their SHA-256, versions), editing with a reason, attachments and voiding.
Entries are reached through ``list_entries_for_user`` only: lab, run membership and blinding."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from labnotes.api.notebook import attachment_response
from labnotes.models import Animal, NotebookAttachment, NotebookEntry, Sample, StudyRun, Tumour
from labnotes.selectors import list_animals_for_user, list_runs_for_user, list_tumours_for_user
from labnotes.selectors_samples import (
    current_attachments,
    list_attachments_for_user,
    list_entries_for_user,
    list_samples_for_user,
    search_entries,
)
from labnotes.services import notebook as notebook_services
from labnotes.services.common import StaleWrite, lab_today
from labnotes.services.files import StoredFileCorrupted
from labnotes.services.locks import refusals_as_errors
from labnotes.views.common import add_service_errors
from planner.selectors import get_current_lab
from planner.types import AuthenticatedHttpRequest

PAGE_SIZE = 25


def _input(**attrs: Any) -> dict[str, Any]:
    return {"class": "input", **attrs}


class EntryForm(forms.Form):
    title = forms.CharField(max_length=200, widget=forms.TextInput(_input()))
    entry_date = forms.DateField(
        label="Date",
        help_text="The day the entry is about.",
        widget=forms.DateInput(_input(type="date")),
    )
    body = forms.CharField(
        label="Text",
        required=False,
        help_text="Markdown: **bold**, *italic*, lists, tables, [links](https://…).",
        widget=forms.Textarea(_input(rows=12, spellcheck="true")),
    )
    runs = forms.ModelMultipleChoiceField(
        queryset=StudyRun.objects.none(),
        required=False,
        label="Runs",
        widget=forms.CheckboxSelectMultiple,
    )
    animal_tags = forms.CharField(
        label="Animals",
        required=False,
        help_text="Tags, separated by commas or spaces (in the runs ticked above, or any run).",
        widget=forms.TextInput(_input(autocomplete="off", spellcheck="false")),
    )
    tumours = forms.CharField(
        label="Tumours",
        required=False,
        help_text="One per line: the animal's tag, then the site (e.g. 0042 right flank).",
        widget=forms.Textarea(_input(rows=2, spellcheck="false")),
    )
    sample_barcodes = forms.CharField(
        label="Samples",
        required=False,
        help_text="Barcodes, separated by commas or spaces.",
        widget=forms.TextInput(_input(autocomplete="off", spellcheck="false")),
    )
    reveals_allocation = forms.BooleanField(
        required=False,
        label="This entry reveals the allocation of the linked runs (unblinded readers only)",
    )

    def __init__(self, *args: Any, runs: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["runs"]
        field.queryset = runs
        field.label_from_instance = lambda run: f"{run.study.code} / {run.code}"


class NewEntryForm(EntryForm):
    attachment = forms.FileField(
        required=False,
        label="Attachment",
        help_text="Stored once, with its SHA-256; add more on the entry's page.",
        widget=forms.ClearableFileInput(_input()),
    )


class EditEntryForm(EntryForm):
    reason = forms.CharField(
        max_length=500, help_text="Why the entry changes.", widget=forms.TextInput(_input())
    )
    row_version = forms.IntegerField(widget=forms.HiddenInput)


class AttachForm(forms.Form):
    file = forms.FileField(widget=forms.ClearableFileInput(_input()))
    reason = forms.CharField(
        max_length=500,
        required=False,
        help_text="Required when replacing a file.",
        widget=forms.TextInput(_input()),
    )


class VoidForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.TextInput(_input()))


def _words(text: str) -> list[str]:
    return [word for word in text.replace(",", " ").split() if word]


def _resolve_links(user: Any, form: EntryForm) -> dict[str, list[Any]]:
    """Tags, tumour lines and barcodes typed in the form → rows the user may see (errors
    naming what was not found)."""
    data = form.cleaned_data
    runs = list(data.get("runs") or [])
    problems: dict[str, str] = {}
    animals: list[Animal] = []
    scope = list_animals_for_user(user)
    if runs:
        scope = scope.filter(run__in=runs)
    for tag in _words(data.get("animal_tags") or ""):
        found = list(scope.filter(tag=tag)[:2])
        if len(found) != 1:
            problems["animal_tags"] = (
                f"Animal {tag}: {'not found' if not found else 'in several runs: tick its run'}."
            )
            break
        animals.append(found[0])
    tumours: list[Tumour] = []
    for line in (data.get("tumours") or "").splitlines():
        if not line.strip():
            continue
        tag, _, site = line.strip().partition(" ")
        candidates = list_tumours_for_user(user).filter(animal__tag=tag, site__iexact=site.strip())
        if runs:
            candidates = candidates.filter(animal__run__in=runs)
        found_tumours = list(candidates[:2])
        if len(found_tumours) != 1:
            problems["tumours"] = f"Tumour '{line.strip()}': not found (tag, then site)."
            break
        tumours.append(found_tumours[0])
    samples: list[Sample] = []
    for barcode in _words(data.get("sample_barcodes") or ""):
        sample = list_samples_for_user(user).filter(barcode=barcode).first()
        if sample is None:
            problems["sample_barcodes"] = f"Sample {barcode}: not found."
            break
        samples.append(sample)
    if problems:
        raise ValidationError(problems)
    return {"runs": runs, "animals": animals, "tumours": tumours, "samples": samples}


def _link_initial(entry: NotebookEntry) -> dict[str, Any]:
    links = list(entry.links.select_related("run", "animal", "tumour__animal", "sample"))
    return {
        "runs": [link.run_id for link in links if link.run_id],
        "animal_tags": " ".join(link.animal.tag for link in links if link.animal),
        "tumours": "\n".join(
            f"{link.tumour.animal.tag} {link.tumour.site}" for link in links if link.tumour
        ),
        "sample_barcodes": " ".join(link.sample.barcode for link in links if link.sample),
    }


def _runs_for(request: HttpRequest, lab: Any) -> Any:
    return (
        list_runs_for_user(request.user)
        .filter(study__lab=lab)
        .order_by("study__code", "-day0", "code")
    )


# -- pages -------------------------------------------------------------------------------------


@login_required
@require_GET
def notebook_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    text = (request.GET.get("q") or "").strip()[:200]
    voided = request.GET.get("voided") == "1"
    if text:
        entries = search_entries(request.user, text, include_voided=voided)
    else:
        entries = list_entries_for_user(request.user, include_voided=voided).order_by(
            "-entry_date", "-pk"
        )
    run_id = request.GET.get("run", "")
    run = None
    if run_id.isdigit():
        run = get_object_or_404(list_runs_for_user(request.user), pk=int(run_id))
        entries = entries.filter(links__run=run)
    page = Paginator(entries.prefetch_related("restrictions"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "labnotes/notebook_list.html",
        {"page": page, "q": text, "voided": voided, "run": run},
    )


@login_required
@require_http_methods(["GET", "POST"])
def notebook_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    lab = get_current_lab(request)
    if lab is None:
        raise PermissionDenied("You are not a member of any lab.")
    runs = _runs_for(request, lab)
    initial: dict[str, Any] = {"entry_date": lab_today(lab)}
    for name, field in (("run", "runs"), ("animal", "animal_tags"), ("sample", "sample_barcodes")):
        value = request.GET.get(name, "")
        if not value.isdigit():
            continue
        if name == "run":
            initial[field] = [value]
        elif name == "animal":
            animal = list_animals_for_user(request.user).filter(pk=int(value)).first()
            if animal is not None:
                initial[field] = animal.tag
                initial["runs"] = [animal.run_id]
        else:
            sample = list_samples_for_user(request.user).filter(pk=int(value)).first()
            if sample is not None:
                initial[field] = sample.barcode
    form = NewEntryForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        initial=initial,
        runs=runs,
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data.get("attachment")
        try:
            links = _resolve_links(request.user, form)
            with refusals_as_errors():
                entry = notebook_services.create_entry(
                    lab=lab,
                    author=request.user,
                    title=form.cleaned_data["title"],
                    body=form.cleaned_data.get("body") or "",
                    entry_date=form.cleaned_data["entry_date"],
                    reveals_allocation=form.cleaned_data.get("reveals_allocation") or False,
                    attachments=[
                        notebook_services.Upload(
                            upload.name,
                            upload.content_type or "application/octet-stream",
                            upload.read(),
                        )
                    ]
                    if upload
                    else [],
                    **links,
                )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _saved_message(entry))
            return redirect("notebook_detail", pk=entry.pk)
    return render(
        request,
        "labnotes/notebook_form.html",
        {"form": form, "entry": None},
    )


def _saved_message(entry: NotebookEntry) -> str:
    if entry.restrictions.filter(detected=True).exists():
        return (
            "Entry saved. It names an arm or agent of a blinded study, so only readers who "
            "see that study's allocation can read or find it."
        )
    return "Entry saved."


def _entry(request: HttpRequest, pk: int) -> NotebookEntry:
    return get_object_or_404(list_entries_for_user(request.user), pk=pk)


@login_required
@require_GET
def notebook_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    entry = _entry(request, pk)
    return _detail(request, entry)


def _detail(
    request: AuthenticatedHttpRequest,
    entry: NotebookEntry,
    *,
    attach_form: AttachForm | None = None,
    status: int = 200,
) -> HttpResponse:
    links = list(
        entry.links.select_related("run__study", "animal__run", "tumour__animal", "sample__animal")
    )
    attachments = list(current_attachments(entry))
    older = {
        attachment.pk: _older_versions(attachment)
        for attachment in attachments
        if attachment.replaces_id
    }
    versions = list(entry.versions.select_related("saved_by").order_by("-number"))
    return render(
        request,
        "labnotes/notebook_detail.html",
        {
            "entry": entry,
            # Sanitized by nh3 in render_markdown: only the allowed tags and link schemes remain.
            "body_html": mark_safe(notebook_services.render_markdown(entry.body)),  # noqa: S308
            "links": links,
            "attachments": [(a, older.get(a.pk, [])) for a in attachments],
            "versions": versions,
            "restrictions": list(entry.restrictions.select_related("study")),
            "attach_form": attach_form or AttachForm(),
            "void_form": VoidForm(),
            "is_author": entry.author_id == request.user.pk,
        },
        status=status,
    )


def _older_versions(attachment: NotebookAttachment) -> list[NotebookAttachment]:
    chain = []
    current = attachment.replaces
    while current is not None:
        chain.append(current)
        current = current.replaces
    return chain


@login_required
@require_http_methods(["GET", "POST"])
def notebook_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    entry = _entry(request, pk)
    if entry.author_id != request.user.pk:
        raise PermissionDenied("Only the author of an entry may edit it.")
    runs = _runs_for(request, entry.lab)
    initial = {
        "title": entry.title,
        "entry_date": entry.entry_date,
        "body": entry.body,
        "reveals_allocation": entry.reveals_allocation,
        "row_version": entry.row_version,
        **_link_initial(entry),
    }
    form = EditEntryForm(
        request.POST if request.method == "POST" else None, initial=initial, runs=runs
    )
    status = 200
    current: Any = None
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                links = _resolve_links(request.user, form)
                entry = notebook_services.edit_entry(
                    entry=entry,
                    edited_by=request.user,
                    reason=data["reason"],
                    expected_version=data["row_version"],
                    title=data["title"],
                    body=data.get("body") or "",
                    entry_date=data["entry_date"],
                    reveals_allocation=data.get("reveals_allocation") or False,
                    **links,
                )
            except StaleWrite as stale:
                current = stale.current
                form.add_error(
                    None,
                    "Someone saved this entry after you opened it (now version "
                    f"{current.version}). Their text is shown below; your text is still in "
                    "the form. Merge them and save again.",
                )
                status = 409
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _saved_message(entry).replace("saved", "changed", 1))
                return redirect("notebook_detail", pk=entry.pk)
    return render(
        request,
        "labnotes/notebook_form.html",
        {
            "form": form,
            "entry": entry,
            "current": current,
            "current_html": mark_safe(notebook_services.render_markdown(current.body))  # noqa: S308
            if current
            else "",
        },
        status=status,
    )


@login_required
@require_POST
def notebook_attach(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Add a file, or replace one (``replaces``: the attachment's id) with a new version."""
    entry = _entry(request, pk)
    form = AttachForm(request.POST, request.FILES)
    replaces_id = request.POST.get("replaces", "")
    if form.is_valid():
        upload = form.cleaned_data["file"]
        content = notebook_services.Upload(
            upload.name, upload.content_type or "application/octet-stream", upload.read()
        )
        try:
            if replaces_id.isdigit():
                old = get_object_or_404(NotebookAttachment, entry=entry, pk=int(replaces_id))
                attachment = notebook_services.replace_attachment(
                    attachment=old,
                    added_by=request.user,
                    upload=content,
                    reason=form.cleaned_data.get("reason") or "",
                )
            else:
                attachment = notebook_services.add_attachment(
                    entry=entry,
                    added_by=request.user,
                    upload=content,
                    reason=form.cleaned_data.get("reason") or "",
                )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"{attachment.filename} (version {attachment.version}) attached, "
                f"SHA-256 {attachment.stored_file.sha256}.",
            )
            return redirect("notebook_detail", pk=entry.pk)
    return _detail(request, entry, attach_form=form)


@login_required
@require_GET
def notebook_attachment(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    attachment = get_object_or_404(list_attachments_for_user(request.user), pk=pk)
    try:
        return attachment_response(attachment)
    except StoredFileCorrupted as error:
        return HttpResponse(str(error), status=500, content_type="text/plain")


@login_required
@require_POST
def notebook_void(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    entry = _entry(request, pk)
    form = VoidForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the entry is voided.")
        return redirect("notebook_detail", pk=entry.pk)
    try:
        notebook_services.void_entry(
            entry=entry, voided_by=request.user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Entry voided.")
    return redirect("notebook_detail", pk=entry.pk)
