"""Seed the udata peer's in-memory database with udata's own factories (runs inside the server).

Everything lives in mongomock, in the server process, so seeding happens there, before serving.
`seed()` returns what was made as JSON-able ids/slugs plus three API keys; the launcher prints it.

Cast (see README.md): `owner` (admin of `org`), `editor` (editor of `org`), `other` (no org),
`admin` (sysadmin). Titles that tests search for are fixed; the rest is faker text (seeded, so
the same on every run).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import factory.random
from udata.core.api_token.models import ApiToken
from udata.core.contact_point.factories import ContactPointFactory
from udata.core.dataservices.factories import DataserviceFactory
from udata.core.dataset.factories import (
    CommunityResourceFactory,
    DatasetFactory,
    LicenseFactory,
    ResourceFactory,
)
from udata.core.discussions.factories import DiscussionFactory, MessageDiscussionFactory
from udata.core.organization.factories import OrganizationFactory
from udata.core.post.factories import PostFactory
from udata.core.reuse.factories import ReuseFactory
from udata.core.spatial.factories import GeoLevelFactory, GeoZoneFactory, SpatialCoverageFactory
from udata.core.topic.factories import (
    TopicElementDataserviceFactory,
    TopicElementDatasetFactory,
    TopicElementReuseFactory,
    TopicFactory,
)
from udata.core.user.factories import AdminFactory, UserFactory

# 22 public datasets of `owner`/`org` + 1 of `other` = 23 listed: pages of 5 give 5 pages.
PUBLIC_DATASETS = 22
SEARCH_TITLE = "Qualité de l'air en Bretagne"  # accented on purpose: the fallback folds accents
PASSWORD = "Peer-password-1"
# On every seeded public dataset (and nothing else): the session's peer is shared, other tests
# add datasets, so counts of "what was seeded" filter on this tag.
SEED_TAG = "peer-seed"


def _ids(objects: list[Any]) -> list[str]:
    return [str(o.id) for o in objects]


def _key(user: Any, name: str) -> str:
    _token, plaintext = ApiToken.generate(user, name=name)
    return str(plaintext)


def seed() -> dict[str, Any]:
    factory.random.reseed_random("datagouv-sdk udata peer")
    now = datetime.now(UTC)

    owner = UserFactory(first_name="Olivia", last_name="Owner", password=PASSWORD)
    editor = UserFactory(first_name="Eddie", last_name="Editor", password=PASSWORD)
    other = UserFactory(first_name="Oscar", last_name="Other", password=PASSWORD)
    admin = AdminFactory(first_name="Ada", last_name="Admin", password=PASSWORD)

    org = OrganizationFactory(name="Peer Organization", admins=[owner], editors=[editor])
    org.add_badge("public-service")
    other_org = OrganizationFactory(name="Other Organization", admins=[other])

    license = LicenseFactory(id="peer-license", title="Peer Open License")
    level = GeoLevelFactory(id="fr:commune", name="French commune", admin_level=80)
    zone = GeoZoneFactory(id="fr:commune:35238", name="Rennes", slug="rennes", code="35238", level=level.id)
    contact = ContactPointFactory(organization=org, role="contact", email="contact@example.org")

    datasets = []
    for index in range(PUBLIC_DATASETS):
        title = SEARCH_TITLE if index == 0 else None
        kwargs: dict[str, Any] = {"title": title} if title else {}
        datasets.append(
            DatasetFactory(
                **kwargs,
                organization=org if index % 2 == 0 else None,
                owner=None if index % 2 == 0 else owner,
                resources=ResourceFactory.build_batch(2 if index < 5 else 1),
                tags=["peer", SEED_TAG, f"tag-{index % 3}"],
                license=license,
                spatial=SpatialCoverageFactory(zones=[zone], granularity="fr:commune"),
                contact_points=[contact] if index % 2 == 0 else [],
            )
        )
    datasets[0].add_badge("spd")
    private_dataset = DatasetFactory(title="Private dataset", private=True, organization=org)
    deleted_dataset = DatasetFactory(title="Deleted dataset", owner=owner, deleted=now)
    other_dataset = DatasetFactory(
        title="Other user's dataset",
        owner=other,
        resources=[ResourceFactory.build()],
        tags=[SEED_TAG],
    )

    community_resource = CommunityResourceFactory(dataset=datasets[0], owner=other)

    reuses = [
        ReuseFactory(
            title=f"Peer reuse {index}",
            datasets=datasets[index : index + 2],
            organization=org if index % 2 == 0 else None,
            owner=None if index % 2 == 0 else owner,
            tags=["peer"],
        )
        for index in range(6)
    ]

    dataservices = [
        DataserviceFactory(
            title=f"Peer API {index}",
            organization=org,
            base_api_url=f"http://127.0.0.1/peer-api-{index}/",
            machine_documentation_url=f"http://127.0.0.1/peer-api-{index}/openapi.json",
            datasets=datasets[:2],
            contact_points=[contact],
        )
        for index in range(4)
    ]

    discussions = []
    for index, subject in enumerate([datasets[0], datasets[1], reuses[0], dataservices[0]]):
        discussions.append(
            DiscussionFactory(
                title=f"Peer discussion {index}",
                subject=subject,
                user=other,
                discussion=[
                    MessageDiscussionFactory(posted_by=other),
                    MessageDiscussionFactory(posted_by=owner),
                ],
            )
        )
    discussions[1].closed = now
    discussions[1].closed_by = owner
    discussions[1].save()

    # PostFactory would otherwise create 3 datasets and 3 reuses of its own per post.
    posts = [
        PostFactory(
            name=f"Peer post {index}",
            owner=admin,
            published=now - timedelta(days=index),
            datasets=datasets[:2],
            reuses=reuses[:2],
        )
        for index in range(3)
    ]

    topic = TopicFactory(name="Peer topic", owner=owner, organization=None, tags=["peer"])
    topic_elements = [
        TopicElementDatasetFactory(topic=topic, element=datasets[0]),
        TopicElementDatasetFactory(topic=topic, element=datasets[1]),
        TopicElementReuseFactory(topic=topic, element=reuses[0]),
        TopicElementDataserviceFactory(topic=topic, element=dataservices[0]),
    ]

    extras = _seed_extras(
        owner=owner,
        other=other,
        admin=admin,
        org=org,
        datasets=datasets,
        reuses=reuses,
        dataservices=dataservices,
        now=now,
    )

    return {
        **extras,
        # Every public dataset (the /datasets/ total), `other_dataset` last.
        "datasets": _ids([*datasets, other_dataset]),
        "dataset_slugs": [d.slug for d in [*datasets, other_dataset]],
        "owner_datasets": _ids([d for d in datasets if d.owner == owner]),
        "org_datasets": _ids([d for d in datasets if d.organization == org]),
        "private_dataset": str(private_dataset.id),
        "deleted_dataset": str(deleted_dataset.id),
        "other_dataset": str(other_dataset.id),
        "search_title": SEARCH_TITLE,
        "resources": {str(d.id): [str(r.id) for r in d.resources] for d in datasets[:3]},
        "community_resources": [str(community_resource.id)],
        "organizations": _ids([org, other_org]),
        "organization_slugs": [org.slug, other_org.slug],
        "reuses": _ids(reuses),
        "dataservices": _ids(dataservices),
        "discussions": _ids(discussions),
        "posts": _ids(posts),
        "post_slugs": [p.slug for p in posts],
        "topics": _ids([topic]),
        "topic_elements": _ids(topic_elements),
        "contact_points": _ids([contact]),
        "licenses": [license.id],
        "spatial": {"levels": [level.id], "zones": [zone.id]},
        "tags": ["peer", SEED_TAG, "tag-0", "tag-1", "tag-2"],
        "seed_tag": SEED_TAG,
        **_cast(owner, editor, other, admin),
    }


def _cast(owner: Any, editor: Any, other: Any, admin: Any) -> dict[str, Any]:
    """The seed keys about the four users (ids, slugs, password, API keys): every seed has them."""
    return {
        "users": {
            "owner": str(owner.id),
            "editor": str(editor.id),
            "other": str(other.id),
            "admin": str(admin.id),
        },
        "user_slugs": {"owner": owner.slug, "other": other.slug},
        "password": PASSWORD,
        # A second token of `owner` that nothing uses: token listings then show a never-used token
        # (`last_used_at` null), as every freshly created token is.
        "spare_owner_key": _key(owner, "peer owner, spare"),
        "keys": {
            "owner": _key(owner, "peer owner"),
            "editor": _key(editor, "peer editor"),
            "other": _key(other, "peer other"),
            "admin": _key(admin, "peer admin"),
        },
    }


def _seed_extras(
    *,
    owner: Any,
    other: Any,
    admin: Any,
    org: Any,
    datasets: list[Any],
    reuses: list[Any],
    dataservices: list[Any],
    now: datetime,
) -> dict[str, Any]:
    """Objects behind the less common GET endpoints: follows, harvest, transfers, reports..."""
    from udata.core.followers.models import Follow
    from udata.core.jobs.models import PeriodicTask
    from udata.core.organization.models import MembershipRequest
    from udata.core.reports.models import Report
    from udata.core.visualizations.factories import ChartFactory
    from udata.features.transfer.models import Transfer
    from udata.harvest.models import HarvestItem, HarvestJob, HarvestSource

    follows = [
        Follow(follower=other, following=datasets[0]).save(),
        Follow(follower=other, following=org).save(),
        Follow(follower=other, following=reuses[0]).save(),
        Follow(follower=other, following=dataservices[0]).save(),
        Follow(follower=other, following=owner).save(),
    ]

    org.requests.append(MembershipRequest(user=other, comment="Let me in, please"))
    org.save()

    source = HarvestSource(
        name="Peer harvest source",
        url="http://127.0.0.1/catalog.xml",
        backend="dcat",
        organization=org,
        description="A harvest source that is never run",
    ).save()
    job = HarvestJob(
        source=source,
        status="done",
        started=now - timedelta(hours=2),
        ended=now - timedelta(hours=1),
        items=[HarvestItem(remote_id="remote-1", dataset=datasets[2], status="done")],
    ).save()

    transfer = Transfer(
        owner=owner, recipient=org, subject=datasets[1], comment="Please take it", user=owner
    ).save()
    report = Report(by=other, subject=datasets[2], reason="spam", message="Looks like spam").save()
    chart = ChartFactory(title="Peer chart", organization=org)
    periodic_task = PeriodicTask(
        name="peer-periodic-task",
        task="purge-datasets",
        crontab=PeriodicTask.Crontab(minute="0", hour="3"),
    ).save()
    tabular = _seed_tabular_resources(org)
    csv_exports = _seed_csv_exports(org)
    return {
        **tabular,
        "csv_exports_dataset": str(csv_exports.id),
        "follows": _ids(follows),
        "harvest_sources": _ids([source]),
        "harvest_jobs": _ids([job]),
        "transfers": _ids([transfer]),
        "transfer_subjects": _ids([datasets[1]]),
        "reports": _ids([report]),
        "visualizations": _ids([chart]),
        "jobs": _ids([periodic_task]),
    }


# The api_tabular peer's resource ids (tests/peers/tabular/seed.py RESOURCES; a test checks they agree).
TABULAR_RESOURCES = {
    "typed": "aaaaaaaa-1111-4bbb-8222-cccccccccccc",
    "paged": "aaaaaaaa-2222-4bbb-8222-cccccccccccc",
    "big": "aaaaaaaa-3333-4bbb-8222-cccccccccccc",
    "aggregatable": "aaaaaaaa-4444-4bbb-8222-cccccccccccc",
    "indexed": "aaaaaaaa-5555-4bbb-8222-cccccccccccc",
    "odd": "aaaaaaaa-8888-4bbb-8222-cccccccccccc",
    "large": "aaaaaaaa-9999-4bbb-8222-cccccccccccc",
}


def _seed_tabular_resources(org: Any) -> dict[str, Any]:
    """The Tabular peer's resources as Main API resources (same ids), in a private dataset.

    udata's API assigns new ids to created resources, so the ids can only be set here. Private so
    the seeded public counts do not move; the analysis fixture (tests/peers/analysis_fixtures.py)
    points their urls at its file server, publishes hydra's extras the way hydra does, then
    publishes the dataset.
    """
    import uuid

    resources = [
        ResourceFactory.build(
            id=uuid.UUID(rid),
            title=f"{name}.csv",
            url=f"http://127.0.0.1/tabular/{name}.csv",
            filetype="remote",
            type="main",
            format="csv",
            mime="text/csv",
        )
        for name, rid in TABULAR_RESOURCES.items()
    ]
    dataset = DatasetFactory(
        title="Tabular peer resources",
        organization=org,
        private=True,
        resources=resources,
        tags=["tabular-peer"],
    )
    return {"tabular_dataset": str(dataset.id), "tabular_resources": dict(TABULAR_RESOURCES)}


def _seed_csv_exports(org: Any) -> Any:
    """The /site/*.csv catalog exports: udata's export-csv job, run once into a private dataset.

    Private, so it is not counted in the public dataset lists.
    """
    from flask import current_app
    from udata.core.dataset.tasks import export_csv_for_model

    dataset = DatasetFactory(title="CSV catalog exports", organization=org, private=True)
    current_app.config["EXPORT_CSV_DATASET_ID"] = str(dataset.id)
    for model in current_app.config["EXPORT_CSV_MODELS"]:
        export_csv_for_model(model, dataset, replace=True)
    return dataset
