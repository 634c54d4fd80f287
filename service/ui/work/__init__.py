"""Pages that do the work: post and edit demands and programmes, place and move training orders,
import graduates, manage the organisation's API keys (one module per page group).

Each form posts the JSON API's field names; what it posts becomes the API's own request body
(``service.ui.forms``) and goes through the same domain service as the API, with the same role rules:
demands are posted by enterprises and research institutes, programmes and graduates by schools,
orders placed by demand owners and moved by their two parties. Anything an organisation may not see
is the 404 page. A successful post answers 303 to the object's page; a form with problems is shown
again (422) with each problem beside its field.
"""

from __future__ import annotations

from fastapi import APIRouter

from service.ui.work import demands, graduates, keys, orders, programs

ROUTERS: tuple[APIRouter, ...] = (
    demands.router,
    programs.router,
    orders.router,
    graduates.router,
    keys.router,
)
