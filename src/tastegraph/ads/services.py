"""Managing advertising inside the caller's unit of work: advertisers and their members,
campaigns, line items, creatives, placements, and reports.

Who may do what is decided by a ``Scope``: administrators see and change everything;
a member of an advertiser sees and changes only that advertiser's campaigns, line items,
creatives and reports. Objects outside the caller's scope answer "not found", exactly like
objects that do not exist, so an advertiser cannot even learn that another one's campaign 17
exists. No method returns anything about individual users except an advertiser's own member
list, which only administrators can read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session, object_session

from tastegraph.accounts.errors import PermissionDenied, UserNotFound
from tastegraph.accounts.models import User
from tastegraph.accounts.services import name_key
from tastegraph.ads.errors import (
    AdvertiserNotFound,
    CampaignNotFound,
    CreativeNotFound,
    InvalidAdData,
    LineItemNotFound,
    NotAnAdvertiser,
    PlacementKeyTaken,
    PlacementNotFound,
)
from tastegraph.ads.index import bump_version
from tastegraph.ads.models import (
    Advertiser,
    AdvertiserMember,
    Campaign,
    Creative,
    CreativeFormat,
    LineItem,
    Placement,
    PlacementType,
    Pricing,
    Priority,
    Status,
)
from tastegraph.ads.reach import ReachStore
from tastegraph.ads.reporting import build_report
from tastegraph.ads.schemas import (
    AdvertiserIn,
    AdvertiserOut,
    AdvertiserUpdate,
    CampaignIn,
    CampaignOut,
    CampaignUpdate,
    CreativeIn,
    CreativeOut,
    CreativeUpdate,
    FrequencyCap,
    LineItemIn,
    LineItemOut,
    LineItemUpdate,
    MemberOut,
    PlacementIn,
    PlacementOut,
    PlacementUpdate,
    ReportDimension,
    ReportOut,
    Targeting,
    check_creative,
    money,
    to_micros,
)
from tastegraph.audiences.models import Segment
from tastegraph.storage.base import utcnow

OPERATOR_PRIORITIES = frozenset({Priority.SPONSORSHIP, Priority.HOUSE})
"""Sold or run by the operator: only administrators create such campaigns."""


@dataclass(frozen=True)
class Scope:
    user_id: int
    admin: bool
    advertiser_ids: frozenset[int]

    def allows(self, advertiser_id: int) -> bool:
        return self.admin or advertiser_id in self.advertiser_ids

    @property
    def limit(self) -> frozenset[int] | None:
        """The advertisers whose data this scope may read; None for all."""
        return None if self.admin else self.advertiser_ids

    def require_admin(self, what: str) -> None:
        if not self.admin:
            raise PermissionDenied(f"Only administrators may {what}.")


def _invalid(field: str, message: str, code: str = "invalid_value") -> InvalidAdData:
    return InvalidAdData(message, errors=[{"field": field, "code": code, "message": message}])


class AdService:
    def __init__(self, session: Session, currency: str = "EUR") -> None:
        self.session = session
        self.currency = currency

    def _changed(self) -> None:
        bump_version(self.session)

    # -- who --------------------------------------------------------------------------------

    def scope(self, user: User) -> Scope:
        ids = frozenset(
            self.session.scalars(
                select(AdvertiserMember.advertiser_id)
                .join(Advertiser, Advertiser.id == AdvertiserMember.advertiser_id)
                .where(AdvertiserMember.user_id == user.id, Advertiser.status != Status.ARCHIVED)
            )
        )
        if not user.is_admin and not ids:
            raise NotAnAdvertiser(
                "This account does not work for any advertiser. An administrator can add it "
                "with POST /api/v1/ads/advertisers/{id}/members."
            )
        return Scope(user_id=user.id, admin=user.is_admin, advertiser_ids=ids)

    # -- advertisers ------------------------------------------------------------------------

    def create_advertiser(self, scope: Scope, data: AdvertiserIn) -> Advertiser:
        scope.require_admin("create advertisers")
        advertiser = Advertiser(name=data.name, domain=data.domain, status=data.status)
        self.session.add(advertiser)
        self.session.flush()
        self._changed()
        return advertiser

    def list_advertisers(self, scope: Scope) -> list[Advertiser]:
        query = select(Advertiser).where(Advertiser.status != Status.ARCHIVED)
        if not scope.admin:
            query = query.where(Advertiser.id.in_(sorted(scope.advertiser_ids)))
        return list(self.session.scalars(query.order_by(Advertiser.id)))

    def advertiser(self, scope: Scope, advertiser_id: int) -> Advertiser:
        advertiser = self.session.get(Advertiser, advertiser_id)
        if (
            advertiser is None
            or advertiser.status is Status.ARCHIVED
            or not scope.allows(advertiser.id)
        ):
            raise AdvertiserNotFound(f"There is no advertiser {advertiser_id}.")
        return advertiser

    def update_advertiser(
        self, scope: Scope, advertiser_id: int, data: AdvertiserUpdate
    ) -> Advertiser:
        scope.require_admin("change advertisers")
        advertiser = self.advertiser(scope, advertiser_id)
        for name, value in data.model_dump(exclude_unset=True).items():
            if value is None and name != "domain":
                raise _invalid(name, f"{name} cannot be null.")
            setattr(advertiser, name, value)
        self._changed()
        return advertiser

    def archive_advertiser(self, scope: Scope, advertiser_id: int) -> None:
        scope.require_admin("delete advertisers")
        self.advertiser(scope, advertiser_id).status = Status.ARCHIVED
        self._changed()

    def members(self, scope: Scope, advertiser_id: int) -> list[MemberOut]:
        scope.require_admin("list an advertiser's members")
        self.advertiser(scope, advertiser_id)
        rows = self.session.execute(
            select(User.name, AdvertiserMember.added_at)
            .join(AdvertiserMember, AdvertiserMember.user_id == User.id)
            .where(AdvertiserMember.advertiser_id == advertiser_id)
            .order_by(User.name_key)
        ).all()
        return [MemberOut(user=name, added_at=added) for name, added in rows]

    def add_member(self, scope: Scope, advertiser_id: int, user_name: str) -> MemberOut:
        scope.require_admin("add members to advertisers")
        self.advertiser(scope, advertiser_id)
        user = self._user(user_name)
        member = self.session.get(AdvertiserMember, (advertiser_id, user.id))
        if member is None:
            member = AdvertiserMember(advertiser_id=advertiser_id, user_id=user.id)
            self.session.add(member)
            self.session.flush()
        return MemberOut(user=user.name, added_at=member.added_at)

    def remove_member(self, scope: Scope, advertiser_id: int, user_name: str) -> None:
        scope.require_admin("remove members from advertisers")
        self.advertiser(scope, advertiser_id)
        user = self._user(user_name)
        self.session.execute(
            delete(AdvertiserMember).where(
                AdvertiserMember.advertiser_id == advertiser_id,
                AdvertiserMember.user_id == user.id,
            )
        )

    def _user(self, name: str) -> User:
        user = self.session.scalar(select(User).where(User.name_key == name_key(name)))
        if user is None:
            raise UserNotFound(f"There is no user called {name!r}.")
        return user

    # -- campaigns --------------------------------------------------------------------------

    def create_campaign(self, scope: Scope, data: CampaignIn) -> Campaign:
        self.advertiser(scope, data.advertiser_id)
        if data.priority in OPERATOR_PRIORITIES:
            scope.require_admin(f"create {data.priority.value} campaigns")
        campaign = Campaign(
            advertiser_id=data.advertiser_id,
            name=data.name,
            priority=data.priority,
            pricing=data.pricing,
            pacing=data.pacing,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            total_budget_micros=None if data.total_budget is None else to_micros(data.total_budget),
            daily_budget_micros=None if data.daily_budget is None else to_micros(data.daily_budget),
            status=data.status,
        )
        self._check_campaign(campaign)
        self.session.add(campaign)
        self.session.flush()
        self._changed()
        return campaign

    def _check_campaign(self, campaign: Campaign) -> None:
        if campaign.ends_at is not None and campaign.ends_at <= campaign.starts_at:
            raise _invalid("ends_at", "The campaign must end after it starts.")
        if campaign.priority is Priority.HOUSE:
            return
        if not campaign.total_budget_micros:
            raise _invalid("total_budget", "A paid campaign needs a total budget above zero.")
        if (
            campaign.daily_budget_micros is not None
            and campaign.daily_budget_micros > campaign.total_budget_micros
        ):
            raise _invalid("daily_budget", "The daily budget cannot exceed the total budget.")

    def list_campaigns(self, scope: Scope, advertiser_id: int | None = None) -> list[Campaign]:
        query = select(Campaign).where(Campaign.status != Status.ARCHIVED)
        if advertiser_id is not None:
            self.advertiser(scope, advertiser_id)
            query = query.where(Campaign.advertiser_id == advertiser_id)
        elif not scope.admin:
            query = query.where(Campaign.advertiser_id.in_(sorted(scope.advertiser_ids)))
        return list(self.session.scalars(query.order_by(Campaign.id)))

    def campaign(self, scope: Scope, campaign_id: int) -> Campaign:
        campaign = self.session.get(Campaign, campaign_id)
        if (
            campaign is None
            or campaign.status is Status.ARCHIVED
            or not scope.allows(campaign.advertiser_id)
        ):
            raise CampaignNotFound(f"There is no campaign {campaign_id}.")
        return campaign

    def update_campaign(self, scope: Scope, campaign_id: int, data: CampaignUpdate) -> Campaign:
        campaign = self.campaign(scope, campaign_id)
        changes = data.model_dump(exclude_unset=True)
        if changes.get("priority") in OPERATOR_PRIORITIES or (
            campaign.priority in OPERATOR_PRIORITIES
        ):
            scope.require_admin(f"change {campaign.priority.value} campaigns")
        for name, value in changes.items():
            if name == "total_budget":
                campaign.total_budget_micros = None if value is None else to_micros(value)
            elif name == "daily_budget":
                campaign.daily_budget_micros = None if value is None else to_micros(value)
            elif value is None and name != "ends_at":
                raise _invalid(name, f"{name} cannot be null.")
            else:
                setattr(campaign, name, value)
        self._check_campaign(campaign)
        if campaign.pricing is Pricing.CPM:
            for line_item in self.session.scalars(
                select(LineItem).where(LineItem.campaign_id == campaign.id)
            ):
                self._check_bid(campaign, line_item.bid_micros, "pricing")
        campaign.updated_at = utcnow()
        self._changed()
        return campaign

    def archive_campaign(self, scope: Scope, campaign_id: int) -> None:
        campaign = self.campaign(scope, campaign_id)
        if campaign.priority in OPERATOR_PRIORITIES:
            scope.require_admin(f"delete {campaign.priority.value} campaigns")
        campaign.status = Status.ARCHIVED
        campaign.updated_at = utcnow()
        self._changed()

    # -- line items -------------------------------------------------------------------------

    def _check_bid(self, campaign: Campaign, bid_micros: int, field: str = "bid") -> None:
        if campaign.pricing is Pricing.CPM and bid_micros % 1000:
            raise _invalid(
                field,
                "A CPM bid has at most three decimals, so that one impression costs whole "
                "micros of the currency.",
            )
        if campaign.priority is not Priority.HOUSE and bid_micros <= 0 and field == "bid":
            raise _invalid("bid", "A paid line item needs a bid above zero.")

    def _check_targeting(self, scope: Scope, targeting: Targeting) -> None:
        if targeting.placements:
            known = set(
                self.session.scalars(
                    select(Placement.key).where(Placement.key.in_(targeting.placements))
                )
            )
            for position, key in enumerate(targeting.placements):
                if key not in known:
                    raise _invalid(
                        f"targeting.placements.{position}", f"There is no placement {key!r}."
                    )
        if targeting.segments:
            # Only segments the caller may read (their own, shared ones, or any for an admin):
            # another advertiser's private segment answers as if it did not exist.
            usable = select(Segment.id).where(Segment.id.in_(targeting.segments))
            if not scope.admin:
                usable = usable.where(
                    or_(Segment.shared.is_(True), Segment.owner_id == scope.user_id)
                )
            known_segments = set(self.session.scalars(usable))
            for position, segment_id in enumerate(targeting.segments):
                if segment_id not in known_segments:
                    raise _invalid(
                        f"targeting.segments.{position}", f"There is no segment {segment_id}."
                    )

    def create_line_item(self, scope: Scope, data: LineItemIn) -> LineItem:
        campaign = self.campaign(scope, data.campaign_id)
        bid = to_micros(data.bid)
        self._check_bid(campaign, bid)
        self._check_targeting(scope, data.targeting)
        line_item = LineItem(
            campaign_id=campaign.id,
            name=data.name,
            bid_micros=bid,
            targeting=data.targeting.model_dump(mode="json"),
            frequency_caps=[cap.model_dump() for cap in data.frequency_caps],
            status=data.status,
        )
        self.session.add(line_item)
        self.session.flush()
        self._changed()
        return line_item

    def list_line_items(self, scope: Scope, campaign_id: int | None = None) -> list[LineItem]:
        query = (
            select(LineItem)
            .join(Campaign, Campaign.id == LineItem.campaign_id)
            .where(LineItem.status != Status.ARCHIVED, Campaign.status != Status.ARCHIVED)
        )
        if campaign_id is not None:
            self.campaign(scope, campaign_id)
            query = query.where(LineItem.campaign_id == campaign_id)
        elif not scope.admin:
            query = query.where(Campaign.advertiser_id.in_(sorted(scope.advertiser_ids)))
        return list(self.session.scalars(query.order_by(LineItem.id)))

    def line_item(self, scope: Scope, line_item_id: int) -> LineItem:
        line_item = self.session.get(LineItem, line_item_id)
        if line_item is None or line_item.status is Status.ARCHIVED:
            raise LineItemNotFound(f"There is no line item {line_item_id}.")
        try:
            self.campaign(scope, line_item.campaign_id)
        except CampaignNotFound:
            raise LineItemNotFound(f"There is no line item {line_item_id}.") from None
        return line_item

    def update_line_item(self, scope: Scope, line_item_id: int, data: LineItemUpdate) -> LineItem:
        line_item = self.line_item(scope, line_item_id)
        campaign = self.campaign(scope, line_item.campaign_id)
        changes = data.model_dump(exclude_unset=True)
        for name in changes:
            if getattr(data, name) is None:
                raise _invalid(name, f"{name} cannot be null.")
        if data.bid is not None:
            bid = to_micros(data.bid)
            self._check_bid(campaign, bid)
            line_item.bid_micros = bid
        if data.name is not None:
            line_item.name = data.name
        if data.targeting is not None:
            self._check_targeting(scope, data.targeting)
            line_item.targeting = data.targeting.model_dump(mode="json")
        if data.frequency_caps is not None:
            line_item.frequency_caps = [cap.model_dump() for cap in data.frequency_caps]
        if data.status is not None:
            line_item.status = data.status
        line_item.updated_at = utcnow()
        self._changed()
        return line_item

    def archive_line_item(self, scope: Scope, line_item_id: int) -> None:
        line_item = self.line_item(scope, line_item_id)
        line_item.status = Status.ARCHIVED
        line_item.updated_at = utcnow()
        self._changed()

    # -- creatives --------------------------------------------------------------------------

    def create_creative(self, scope: Scope, data: CreativeIn) -> Creative:
        line_item = self.line_item(scope, data.line_item_id)
        fields = data.model_dump(exclude={"line_item_id"})
        if data.format is CreativeFormat.VIDEO and not data.mime:
            fields["mime"] = "video/mp4"
        creative = Creative(line_item_id=line_item.id, **fields)
        self.session.add(creative)
        self.session.flush()
        self._changed()
        return creative

    def list_creatives(self, scope: Scope, line_item_id: int | None = None) -> list[Creative]:
        query = (
            select(Creative)
            .join(LineItem, LineItem.id == Creative.line_item_id)
            .join(Campaign, Campaign.id == LineItem.campaign_id)
            .where(Creative.status != Status.ARCHIVED)
        )
        if line_item_id is not None:
            self.line_item(scope, line_item_id)
            query = query.where(Creative.line_item_id == line_item_id)
        elif not scope.admin:
            query = query.where(Campaign.advertiser_id.in_(sorted(scope.advertiser_ids)))
        return list(self.session.scalars(query.order_by(Creative.id)))

    def creative(self, scope: Scope, creative_id: int) -> Creative:
        creative = self.session.get(Creative, creative_id)
        if creative is None or creative.status is Status.ARCHIVED:
            raise CreativeNotFound(f"There is no creative {creative_id}.")
        try:
            self.line_item(scope, creative.line_item_id)
        except LineItemNotFound:
            raise CreativeNotFound(f"There is no creative {creative_id}.") from None
        return creative

    def update_creative(self, scope: Scope, creative_id: int, data: CreativeUpdate) -> Creative:
        creative = self.creative(scope, creative_id)
        for name, value in data.model_dump(exclude_unset=True).items():
            if value is None and name in {"name", "click_url", "status"}:
                raise _invalid(name, f"{name} cannot be null.")
            setattr(creative, name, value)
        try:
            check_creative(
                creative.format,
                creative.asset_url,
                creative.width,
                creative.height,
                creative.duration_seconds,
                creative.headline,
            )
        except ValueError as exc:
            raise _invalid("format", str(exc)) from None
        self._changed()
        return creative

    def archive_creative(self, scope: Scope, creative_id: int) -> None:
        self.creative(scope, creative_id).status = Status.ARCHIVED
        self._changed()

    # -- placements -------------------------------------------------------------------------

    def create_placement(self, scope: Scope, data: PlacementIn) -> Placement:
        scope.require_admin("create placements")
        if self.session.scalar(select(Placement.id).where(Placement.key == data.key)):
            raise PlacementKeyTaken(f"There is already a placement {data.key!r}.")
        placement = Placement(
            key=data.key,
            name=data.name,
            type=data.type,
            formats=[f.value for f in data.formats],
            width=data.width,
            height=data.height,
            position=data.position,
            max_duration_seconds=data.max_duration_seconds,
            floor_micros=to_micros(data.floor),
            status=data.status,
        )
        self.session.add(placement)
        self.session.flush()
        self._changed()
        return placement

    def list_placements(self) -> list[Placement]:
        return list(
            self.session.scalars(
                select(Placement).where(Placement.status != Status.ARCHIVED).order_by(Placement.key)
            )
        )

    def placement(self, key_or_id: str) -> Placement:
        query = select(Placement).where(Placement.status != Status.ARCHIVED)
        if key_or_id.isdigit():
            query = query.where(Placement.id == int(key_or_id))
        else:
            query = query.where(Placement.key == key_or_id)
        placement = self.session.scalar(query)
        if placement is None:
            raise PlacementNotFound(f"There is no placement {key_or_id!r}.")
        return placement

    def update_placement(self, scope: Scope, key_or_id: str, data: PlacementUpdate) -> Placement:
        scope.require_admin("change placements")
        placement = self.placement(key_or_id)
        for name, value in data.model_dump(exclude_unset=True).items():
            if name == "floor":
                if value is None:
                    raise _invalid("floor", "floor cannot be null.")
                placement.floor_micros = to_micros(value)
            elif name == "formats":
                if value is None:
                    raise _invalid("formats", "formats cannot be null.")
                placement.formats = [CreativeFormat(f).value for f in value]
            elif value is None and name in {"name", "status"}:
                raise _invalid(name, f"{name} cannot be null.")
            else:
                setattr(placement, name, value)
        if placement.position is not None and placement.type is not PlacementType.INSTREAM:
            raise _invalid("position", "Only in-stream placements have a position.")
        self._changed()
        return placement

    def archive_placement(self, scope: Scope, key_or_id: str) -> None:
        scope.require_admin("delete placements")
        self.placement(key_or_id).status = Status.ARCHIVED
        self._changed()

    # -- reports ----------------------------------------------------------------------------

    def report(
        self,
        scope: Scope,
        *,
        since: date,
        until: date,
        group_by: list[ReportDimension],
        advertiser_id: int | None = None,
        campaign_id: int | None = None,
        line_item_id: int | None = None,
        creative_id: int | None = None,
        reach: ReachStore | None = None,
        frequency_sample: int = 1,
    ) -> ReportOut:
        limit = scope.limit
        if advertiser_id is not None:
            self.advertiser(scope, advertiser_id)
            limit = frozenset({advertiser_id})
        if campaign_id is not None:
            self.campaign(scope, campaign_id)
        if line_item_id is not None:
            self.line_item(scope, line_item_id)
        if creative_id is not None:
            self.creative(scope, creative_id)
        return build_report(
            self.session,
            advertiser_ids=limit,
            since=since,
            until=until,
            group_by=group_by,
            currency=self.currency,
            campaign_id=campaign_id,
            line_item_id=line_item_id,
            creative_id=creative_id,
            reach=reach,
            frequency_sample=frequency_sample,
        )

    # -- views ------------------------------------------------------------------------------

    def advertiser_out(self, advertiser: Advertiser) -> AdvertiserOut:
        return AdvertiserOut(
            id=advertiser.id,
            name=advertiser.name,
            domain=advertiser.domain,
            status=advertiser.status,
            created_at=advertiser.created_at,
        )

    def campaign_out(self, campaign: Campaign) -> CampaignOut:
        return CampaignOut(
            id=campaign.id,
            advertiser_id=campaign.advertiser_id,
            name=campaign.name,
            priority=campaign.priority,
            pricing=campaign.pricing,
            pacing=campaign.pacing,
            starts_at=campaign.starts_at,
            ends_at=campaign.ends_at,
            total_budget=money(campaign.total_budget_micros),
            daily_budget=money(campaign.daily_budget_micros),
            currency=self.currency,
            status=campaign.status,
            created_at=campaign.created_at,
        )

    @staticmethod
    def line_item_out(line_item: LineItem) -> LineItemOut:
        return LineItemOut(
            id=line_item.id,
            campaign_id=line_item.campaign_id,
            name=line_item.name,
            bid=money(line_item.bid_micros) or 0.0,
            targeting=Targeting.model_validate(line_item.targeting or {}),
            frequency_caps=[FrequencyCap.model_validate(c) for c in line_item.frequency_caps],
            status=line_item.status,
            created_at=line_item.created_at,
        )

    @staticmethod
    def creative_out(creative: Creative) -> CreativeOut:
        return CreativeOut(
            id=creative.id,
            line_item_id=creative.line_item_id,
            name=creative.name,
            format=creative.format,
            width=creative.width,
            height=creative.height,
            duration_seconds=creative.duration_seconds,
            asset_url=creative.asset_url,
            mime=creative.mime,
            headline=creative.headline,
            body=creative.body,
            click_url=creative.click_url,
            status=creative.status,
            created_at=creative.created_at,
        )

    def placement_out(self, placement: Placement) -> PlacementOut:
        return PlacementOut(
            id=placement.id,
            key=placement.key,
            name=placement.name,
            type=placement.type,
            formats=[CreativeFormat(f) for f in placement.formats],
            width=placement.width,
            height=placement.height,
            position=placement.position,
            max_duration_seconds=placement.max_duration_seconds,
            floor=money(placement.floor_micros) or 0.0,
            currency=self.currency,
            status=placement.status,
        )


def works_for_an_advertiser(user: User) -> bool:
    """Whether ``user`` is a member of an advertiser: the audiences area lets such users build
    and read segments (aggregates only)."""
    session = object_session(user)
    if session is None:
        return False
    found = session.scalar(
        select(AdvertiserMember.user_id).where(AdvertiserMember.user_id == user.id).limit(1)
    )
    return found is not None
