"""/api/v1 relationships: friends and friend requests, follows, blocks, suggestions.
See docs/social.md."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse

from tastegraph.accounts.services import name_key
from tastegraph.social.schemas import (
    FriendRequestOut,
    FriendRequestsOut,
    FriendshipOut,
    NameIn,
    PeopleOut,
    RelationshipOut,
    SuggestionOut,
    SuggestionsOut,
)
from tastegraph.web.api.social_views import briefs, user_ref
from tastegraph.web.deps import RuntimeDep, require_user, unit_of_work, view_profile

router = APIRouter(prefix="/api/v1", tags=["social"])

_NO_CONTENT = status.HTTP_204_NO_CONTENT


# -- friends ----------------------------------------------------------------------------------


@router.get("/users/{name}/friends")
def user_friends(name: str, request: Request, runtime: RuntimeDep) -> PeopleOut:
    """A user's friends, as far as each friend's own privacy lets the caller see them."""
    with unit_of_work(runtime) as svc:
        profile = view_profile(svc, request, name)
        friends = svc.social.friends_of(profile.owner.id)
        shown = svc.social.visible_among(profile.viewer, friends)
        return PeopleOut(people=[user_ref(u) for u in shown])


@router.get("/me/friends")
def my_friends(request: Request, runtime: RuntimeDep) -> PeopleOut:
    with unit_of_work(runtime) as svc:
        user = require_user(svc, request)
        hidden = svc.social.hidden_ids(user)
        return PeopleOut(
            people=[user_ref(u) for u in svc.social.friends_of(user.id) if u.id not in hidden]
        )


@router.post(
    "/me/friend-requests",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"description": "They had asked you already: you are friends now."},
        404: {"description": "user_not_found (also when a block stands between you)"},
        409: {"description": "already_friends"},
    },
)
def request_friend(data: NameIn, request: Request, runtime: RuntimeDep) -> JSONResponse:
    """Ask someone to be friends. They get a notification; asking again changes nothing;
    asking someone who asked you makes you friends at once (200)."""
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        other = svc.social.reachable_user_by_name(user, data.name)
        friendship, accepted = svc.social.request_friend(user, other)
        out = FriendshipOut(
            user=user_ref(other),
            status="accepted" if accepted else "pending",
            since=friendship.accepted_at or friendship.created_at,
        )
    code = status.HTTP_200_OK if accepted else status.HTTP_201_CREATED
    return JSONResponse(out.model_dump(mode="json"), status_code=code)


@router.get("/me/friend-requests")
def friend_requests(
    request: Request,
    runtime: RuntimeDep,
    direction: Literal["incoming", "outgoing"] = "incoming",
) -> FriendRequestsOut:
    """Requests waiting for your answer (incoming), or for theirs (outgoing), newest first."""
    with unit_of_work(runtime) as svc:
        user = require_user(svc, request)
        return FriendRequestsOut(
            requests=[
                FriendRequestOut(
                    user=user_ref(r.other),
                    direction=r.direction,
                    created_at=r.friendship.created_at,
                )
                for r in svc.social.friend_requests(user, direction)
            ]
        )


@router.post("/me/friend-requests/{name}/accept", responses={404: {"description": "no request"}})
def accept_friend(name: str, request: Request, runtime: RuntimeDep) -> FriendshipOut:
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        other = svc.social.reachable_user_by_name(user, name)
        friendship = svc.social.accept_request(user, other)
        assert friendship.accepted_at is not None
        return FriendshipOut(user=user_ref(other), status="accepted", since=friendship.accepted_at)


@router.post("/me/friend-requests/{name}/decline", status_code=_NO_CONTENT)
def decline_friend(name: str, request: Request, runtime: RuntimeDep) -> Response:
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        svc.social.decline_request(user, svc.social.reachable_user_by_name(user, name))
    return Response(status_code=_NO_CONTENT)


@router.delete("/me/friend-requests/{name}", status_code=_NO_CONTENT)
def cancel_friend_request(name: str, request: Request, runtime: RuntimeDep) -> Response:
    """Withdraw a request you sent."""
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        svc.social.cancel_request(user, svc.social.reachable_user_by_name(user, name))
    return Response(status_code=_NO_CONTENT)


@router.delete("/me/friends/{name}", status_code=_NO_CONTENT)
def remove_friend(name: str, request: Request, runtime: RuntimeDep) -> Response:
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        svc.social.remove_friend(user, svc.social.reachable_user_by_name(user, name))
    return Response(status_code=_NO_CONTENT)


# -- follows ----------------------------------------------------------------------------------


@router.put("/me/following/{name}", status_code=_NO_CONTENT)
def follow(name: str, request: Request, runtime: RuntimeDep) -> Response:
    """Follow someone whose profile you can see: their activity joins your feed."""
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        svc.social.follow(user, svc.social.access_user_by_name(user, name))
    return Response(status_code=_NO_CONTENT)


@router.delete("/me/following/{name}", status_code=_NO_CONTENT)
def unfollow(name: str, request: Request, runtime: RuntimeDep) -> Response:
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        svc.social.unfollow(user, svc.social.reachable_user_by_name(user, name))
    return Response(status_code=_NO_CONTENT)


@router.get("/users/{name}/following")
def user_following(name: str, request: Request, runtime: RuntimeDep) -> PeopleOut:
    with unit_of_work(runtime) as svc:
        profile = view_profile(svc, request, name)
        shown = svc.social.visible_among(profile.viewer, svc.social.following(profile.owner))
        return PeopleOut(people=[user_ref(u) for u in shown])


@router.get("/users/{name}/followers")
def user_followers(name: str, request: Request, runtime: RuntimeDep) -> PeopleOut:
    with unit_of_work(runtime) as svc:
        profile = view_profile(svc, request, name)
        shown = svc.social.visible_among(profile.viewer, svc.social.followers(profile.owner))
        return PeopleOut(people=[user_ref(u) for u in shown])


# -- blocks -----------------------------------------------------------------------------------


@router.get("/me/blocks")
def my_blocks(request: Request, runtime: RuntimeDep) -> PeopleOut:
    with unit_of_work(runtime) as svc:
        user = require_user(svc, request)
        return PeopleOut(people=[user_ref(u) for u in svc.social.blocked(user)])


@router.put("/me/blocks/{name}", status_code=_NO_CONTENT)
def block(name: str, request: Request, runtime: RuntimeDep) -> Response:
    """Block someone: you and they no longer see each other's profiles, activity, shouts or
    requests anywhere; friendship, follows and invitations between you end."""
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        other = svc.social.reachable_user_by_name(user, name)
        svc.social.block(user, other)
    return Response(status_code=_NO_CONTENT)


@router.delete("/me/blocks/{name}", status_code=_NO_CONTENT)
def unblock(name: str, request: Request, runtime: RuntimeDep) -> Response:
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        blocked = {u.name_key: u for u in svc.social.blocked(user)}
        other = blocked.get(name_key(name))
        if other is not None:
            svc.social.unblock(user, other)
    return Response(status_code=_NO_CONTENT)


@router.get("/me/relationships/{name}")
def relationship(name: str, request: Request, runtime: RuntimeDep) -> RelationshipOut:
    """Where you stand with someone: friends, a request either way, follows, a block."""
    with unit_of_work(runtime) as svc:
        user = require_user(svc, request)
        other = svc.social.reachable_user_by_name(user, name)
        found = svc.social.relationship(user, other)
        return RelationshipOut(
            user=user_ref(other),
            friends=found.friends,
            request=found.request,
            following=found.following,
            followed_by=found.followed_by,
            blocked=found.blocked,
        )


# -- suggestions ------------------------------------------------------------------------------


@router.get("/me/suggestions")
def suggestions(
    request: Request, runtime: RuntimeDep, limit: Annotated[int, Query(ge=1, le=50)] = 10
) -> SuggestionsOut:
    """People you may know (friends of friends) or would like (taste neighbours: the same
    top items in the last half year, or the recommender's neighbours once trained)."""
    with unit_of_work(runtime) as svc:
        user = require_user(svc, request)
        found = svc.social.suggestions(user, limit=limit)
        items = briefs(svc, [i for s in found for i in s.shared_items])
        return SuggestionsOut(
            suggestions=[
                SuggestionOut(
                    user=user_ref(s.user),
                    score=s.score,
                    mutual_friends=s.mutual_friends,
                    mutual_names=s.mutual_names,
                    shared_items=[items[i.id] for i in s.shared_items],
                    similarity=s.similarity,
                )
                for s in found
            ]
        )
