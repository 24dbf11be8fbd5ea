from django.urls import path

from segments.views import builder, history, models, pages, personas, persons, versions

S = "p/<int:project_id>/segments/"
urlpatterns = [
    path(S, pages.segment_list, name="segments"),
    path(f"{S}new/", builder.segment_new, name="segment_new"),
    path(f"{S}preview/", builder.segment_preview, name="segment_preview"),
    path(f"{S}suggest/", builder.segment_suggest, name="segment_suggest"),
    path(f"{S}upload/", pages.segment_upload_view, name="segment_upload"),
    path(f"{S}<int:segment_id>/", pages.segment_detail, name="segment_detail"),
    path(f"{S}<int:segment_id>/members.csv", pages.segment_members_csv, name="segment_members_csv"),
    path(f"{S}<int:segment_id>/edit/", builder.segment_edit, name="segment_edit"),
    path(f"{S}<int:segment_id>/refresh/", pages.segment_refresh, name="segment_refresh"),
    path(
        f"{S}<int:segment_id>/history/rebuild/",
        history.segment_history_rebuild,
        name="segment_history_rebuild",
    ),
    path(f"{S}<int:segment_id>/versions/", versions.segment_versions, name="segment_versions"),
    path(
        f"{S}<int:segment_id>/versions/<int:number>/restore/",
        versions.segment_version_restore,
        name="segment_version_restore",
    ),
    path(f"{S}<int:segment_id>/freeze/", pages.segment_freeze_view, name="segment_freeze"),
    path(f"{S}<int:segment_id>/delete/", pages.segment_delete_view, name="segment_delete"),
    path(f"{S}models/", models.model_list, name="segment_models"),
    path(f"{S}models/new/lifecycle/", models.lifecycle_new, name="segment_model_lifecycle_new"),
    path(f"{S}models/new/custom/", models.custom_new, name="segment_model_custom_new"),
    path(f"{S}models/<int:model_id>/", models.model_detail, name="segment_model_detail"),
    path(f"{S}personas/", personas.persona_list, name="personas"),
    path(f"{S}personas/new/", personas.persona_new, name="persona_new"),
    path(f"{S}personas/<int:persona_id>/", personas.persona_detail, name="persona_detail"),
    path(f"{S}personas/<int:persona_id>/edit/", personas.persona_edit, name="persona_edit"),
    path(
        "p/<int:project_id>/persons/<int:person_id>/segments/",
        persons.person_segments,
        name="person_segments",
    ),
]
