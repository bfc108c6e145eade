"""Exchange pages (交换体系): the provider's inbox of access requests, a request with its decision
form and history, our department's grants, the data demand list."""

from __future__ import annotations

from fastapi import APIRouter

from govshare.web.rendering import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)
