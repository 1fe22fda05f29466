"""Importing a running or past study into a run: upload → preview (every row, every error) →
confirm. The preview runs the whole import and rolls it back; a valid file is kept (by its
SHA-256) so that the confirmation imports exactly the bytes that were previewed."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from labnotes.importers.study_table import COLUMNS
from labnotes.selectors import list_runs_for_user, list_stored_files_for_user
from labnotes.services.files import StoredFileCorrupted, read_file, store_file
from labnotes.services.study_import import ImportPreview, import_study, preview_study_import
from planner.types import AuthenticatedHttpRequest


class StudyImportForm(forms.Form):
    file = forms.FileField(
        label="Study table (XLSX or CSV)",
        help_text="One row per animal and time point, with a header row. See the columns below.",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xlsm,.csv,.tsv,.txt"}),
    )


@login_required
@require_http_methods(["GET", "POST"])
def run_import(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(list_runs_for_user(request.user), pk=pk)
    lab = run.study.lab
    form = StudyImportForm()
    preview: ImportPreview | None = None
    stored_id: int | None = None
    status = 200
    if request.method == "POST" and request.POST.get("action") == "import":
        stored = get_object_or_404(
            list_stored_files_for_user(request.user).filter(lab=lab),
            pk=request.POST.get("stored_file") or 0,
        )
        try:
            content = read_file(stored)
            result = import_study(
                run=run,
                content=content,
                filename=stored.original_filename,
                imported_by=request.user,
            )
        except (StoredFileCorrupted, PermissionDenied) as error:
            messages.error(request, str(error))
        except ValidationError:
            # Something changed since the preview (another import, new animals): show why.
            preview = preview_study_import(
                run=run,
                content=content,
                filename=stored.original_filename,
                imported_by=request.user,
            )
            status = 409
        else:
            counts = ", ".join(f"{n} {what}" for what, n in result.counts.items())
            messages.success(request, f"Imported {stored.original_filename}: {counts}.")
            return redirect("run_detail", pk=run.pk)
    elif request.method == "POST":
        form = StudyImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            content = upload.read()
            try:
                preview = preview_study_import(
                    run=run, content=content, filename=upload.name, imported_by=request.user
                )
            except PermissionDenied as error:
                form.add_error(None, str(error))
            else:
                if preview.is_valid:
                    try:
                        stored_id = store_file(
                            content=content,
                            filename=upload.name,
                            content_type=upload.content_type or "application/octet-stream",
                            stored_by=request.user,
                            lab=lab,
                        ).pk
                    except ValidationError as error:
                        form.add_error("file", " ".join(error.messages))
                        preview = None
                else:
                    status = 422
    return render(
        request,
        "labnotes/import_form.html",
        {
            "run": run,
            "study": run.study,
            "form": form,
            "preview": preview,
            "stored_id": stored_id,
            "columns": COLUMNS,
        },
        status=status,
    )
