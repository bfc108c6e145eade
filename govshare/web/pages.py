"""HTML pages of every capability, registered on the app by ``create_app`` (see app.py)."""

from __future__ import annotations

from fastapi import FastAPI


def register(app: FastAPI) -> None:
    """Mount the sign-in and catalog pages; later capabilities add their page routers here."""
    from govshare.audit.pages import router as audit_pages
    from govshare.auth.pages import router as auth_pages
    from govshare.catalog.pages import router as catalog_pages
    from govshare.data.pages import router as data_pages
    from govshare.data.profile_pages import router as profile_pages
    from govshare.data.report_pages import router as report_pages

    app.include_router(auth_pages)
    app.include_router(catalog_pages)
    app.include_router(data_pages)
    app.include_router(profile_pages)
    app.include_router(report_pages)
    app.include_router(audit_pages)
