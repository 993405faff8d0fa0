"""The board service's fast-lane routes (core.fastlane): the same actions as ``api``."""

from __future__ import annotations

from wealist.board.actions import boards
from wealist.board.actions.common import caller_id, parse_uuid
from wealist.core.envelopes import reply
from wealist.core.fastlane import Answer, FastCall, FastRoute, json_answer

__all__ = ("FAST_ROUTES",)


async def project_boards(call: FastCall) -> Answer | None:
    """``GET /api/boards/project/{projectId}``: a project's kanban, on every board view.
    With a ``customFields`` filter (or any query) the framework's route parses it."""
    if call.query:
        return None
    project = parse_uuid(call.params["projectId"], "projectId")
    found, seq = await boards.list_boards(call.ctx, caller_id(await call.caller()), project, {})
    return json_answer(reply(found), x_event_seq=str(seq))


FAST_ROUTES = [FastRoute("GET", "/api/boards/project/{projectId:str}", project_boards)]
