"""A second seed for the udata peer, randomised with a fixed seed (runs inside the server).

The default seed (seed.py) is what our tests were written against; a model that only parses it
proves little. This one draws every optional choice at random, from `random.Random(seed)`, so its
objects have the shapes seed.py never makes: optional nested objects null or absent (no license,
spatial, temporal coverage, checksum, schema, image...), empty lists (no resources, tags, datasets,
contact points), organization-owned objects without an owner (datasets, reuses, dataservices,
topics, harvest sources, charts), remote resources without size or mime, harvest items that made
no dataset, failed jobs with errors, closed discussions, archived and featured objects, date-only
temporal coverages, interval periodic tasks, chart series pointing at no resource.

`seed(number)` returns the same keys as `seed.seed()`, so the contract tests' argument tables work
on both peers. Start it with `launcher.py --seed random:<number>` (fixture: tests/contract/conftest.py).
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import factory.random
from seed import PASSWORD, SEARCH_TITLE, SEED_TAG, _cast, _ids, _seed_csv_exports
from udata.core.contact_point.factories import ContactPointFactory
from udata.core.dataservices.factories import DataserviceFactory
from udata.core.dataset.factories import (
    ChecksumFactory,
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

PUBLIC_DATASETS = 24
FREQUENCIES = ["unknown", "daily", "monthly", "annual", "irregular", "punctual", "continuous"]
RESOURCE_TYPES = ["main", "documentation", "update", "api", "code", "other"]


def seed(number: int) -> dict[str, Any]:
    rng = random.Random(number)
    factory.random.reseed_random(f"datagouv-sdk udata peer, random seed {number}")
    now = datetime.now(UTC)

    def maybe(value: Any, chance: float = 0.5) -> Any:
        return value if rng.random() < chance else None

    owner = UserFactory(first_name="Olivia", last_name="Owner", password=PASSWORD)
    editor = UserFactory(first_name="Eddie", last_name="Editor", password=PASSWORD, about=None)
    other = UserFactory(first_name="Oscar", last_name="Other", password=PASSWORD, website=None)
    admin = AdminFactory(first_name="Ada", last_name="Admin", password=PASSWORD)

    org = OrganizationFactory(name="Peer Organization", admins=[owner], editors=[editor], url=None)
    other_org = OrganizationFactory(name="Other Organization", admins=[other], description="")
    if rng.random() < 0.5:
        org.add_badge("public-service")

    license = LicenseFactory(id="peer-license", title="Peer Open License", url=None)
    level = GeoLevelFactory(id="fr:commune", name="French commune", admin_level=80)
    zone = GeoZoneFactory(id="fr:commune:35238", name="Rennes", slug="rennes", code="35238", level=level.id)
    contact = ContactPointFactory(organization=org, role="contact", email="contact@example.org")

    def resource() -> Any:
        remote = rng.random() < 0.4
        return ResourceFactory.build(
            type=rng.choice(RESOURCE_TYPES),
            filetype="remote" if remote else "file",
            filesize=None if remote else rng.randint(0, 10**9),
            mime=None if remote else "text/csv",
            format=maybe(rng.choice(["csv", "json", "zip", "shp"]), 0.8),
            checksum=maybe(ChecksumFactory.build(), 0.5),
            description=maybe("A resource", 0.6),
        )

    def temporal_coverage() -> dict[str, Any]:
        from udata.mongo.datetime_fields import DateRange

        choice = rng.random()
        if choice < 0.4:
            return {}
        start = date(2000 + rng.randint(0, 20), rng.randint(1, 12), 1)
        end = None if choice < 0.6 else start + timedelta(days=rng.randint(1, 3000))
        return {"temporal_coverage": DateRange(start=start, end=end)}

    datasets = []
    for index in range(PUBLIC_DATASETS):
        by_org = rng.random() < 0.5
        kwargs: dict[str, Any] = {
            "organization": org if by_org else None,
            "owner": None if by_org else rng.choice([owner, owner, editor]),
            "resources": [resource() for _ in range(rng.choice([0, 0, 1, 2, 3]))],
            "tags": rng.choice([[], [SEED_TAG], ["peer", SEED_TAG, f"tag-{index % 3}"]]),
            "frequency": rng.choice(FREQUENCIES),
            "acronym": maybe("ACR", 0.3),
            "contact_points": rng.choice([[], [contact]]) if by_org else [],
            "extras": rng.choice([{}, {"peer:number": index, "peer:text": "yes"}]),
            "featured": rng.random() < 0.2,
            **temporal_coverage(),
        }
        if index == 0:
            kwargs["title"] = SEARCH_TITLE
        if rng.random() < 0.6:
            kwargs["license"] = license
        if rng.random() < 0.5:
            kwargs["spatial"] = SpatialCoverageFactory(
                zones=rng.choice([[zone], []]), granularity=rng.choice(["fr:commune", "other"])
            )
        if rng.random() < 0.2:
            kwargs["archived"] = now - timedelta(days=rng.randint(1, 100))
        datasets.append(DatasetFactory(**kwargs))
    # The argument tables want an org dataset, a user dataset and resources on the first three.
    datasets[0].organization, datasets[0].owner = org, None
    datasets[1].organization, datasets[1].owner = None, owner
    for dataset in datasets[:3]:
        if not dataset.resources:
            dataset.resources = [resource()]
    for dataset in datasets[:3]:
        dataset.save()
    _harvested(datasets[3], rng, now)
    private_dataset = DatasetFactory(title="Private dataset", private=True, organization=org, resources=[])
    deleted_dataset = DatasetFactory(title="Deleted dataset", owner=owner, deleted=now)
    other_dataset = DatasetFactory(title="Other user's dataset", owner=other, resources=[], tags=[SEED_TAG])

    community_resources = [
        CommunityResourceFactory(dataset=datasets[0], owner=other, checksum=None, filesize=None, mime=None),
        CommunityResourceFactory(dataset=datasets[1], organization=other_org, owner=None),
    ]

    reuses = []
    for index in range(6):
        by_org = rng.random() < 0.5
        reuses.append(
            ReuseFactory(
                title=f"Peer reuse {index}",
                datasets=rng.choice([[], datasets[index : index + 1], datasets[index : index + 3]]),
                organization=org if by_org else None,
                owner=None if by_org else owner,
                tags=rng.choice([[], ["peer"]]),
                featured=rng.random() < 0.3,
                archived=maybe(now, 0.2),
            )
        )

    dataservices = []
    for index in range(4):
        by_org = index % 2 == 0
        dataservices.append(
            DataserviceFactory(
                title=f"Peer API {index}",
                organization=org if by_org else None,
                owner=None if by_org else owner,
                base_api_url=f"http://127.0.0.1/peer-api-{index}/",
                machine_documentation_url=maybe(f"http://127.0.0.1/peer-api-{index}/openapi.json"),
                availability=maybe(rng.uniform(90, 100)),
                format=maybe(rng.choice(["REST", "WMS", "WSL"])),
                rate_limiting=maybe("10 req/s"),
                datasets=rng.choice([[], datasets[:2]]),
                contact_points=[contact] if by_org and rng.random() < 0.5 else [],
                archived_at=maybe(now, 0.2),
            )
        )

    discussions = []
    subjects = [datasets[0], datasets[1], reuses[0], dataservices[0], datasets[2]]
    for index, subject in enumerate(subjects):
        messages = [MessageDiscussionFactory(posted_by=other)]
        if rng.random() < 0.5:
            messages.append(MessageDiscussionFactory(posted_by=owner))
        discussion = DiscussionFactory(
            title=f"Peer discussion {index}", subject=subject, user=other, discussion=messages
        )
        if index % 2:
            discussion.closed = now
            discussion.closed_by = owner
            discussion.closed_by_organization = org if rng.random() < 0.5 else None
            discussion.save()
        discussions.append(discussion)

    posts = [
        PostFactory(
            name=f"Peer post {index}",
            owner=admin,
            published=now - timedelta(days=index),  # a draft answers 404 to GET /posts/{post}/
            datasets=rng.choice([[], datasets[:2]]),
            reuses=rng.choice([[], reuses[:1]]),
        )
        for index in range(3)
    ]

    # One topic of an organization (no owner), one of a user (no organization).
    topics = [
        TopicFactory(name="Peer topic", owner=None, organization=org, tags=["peer"]),
        TopicFactory(name="Other topic", owner=owner, organization=None, tags=[]),
    ]
    topic_elements = [
        TopicElementDatasetFactory(topic=topics[0], element=datasets[0]),
        TopicElementDatasetFactory(topic=topics[0], element=datasets[1], description=None),
        TopicElementReuseFactory(topic=topics[0], element=reuses[0], title=None),
        TopicElementDataserviceFactory(topic=topics[0], element=dataservices[0]),
        TopicElementDatasetFactory(topic=topics[1], element=datasets[2]),
    ]

    extras = _extras(rng, owner=owner, other=other, org=org, datasets=datasets, reuses=reuses, now=now)
    return {
        **extras,
        "seed_name": f"random:{number}",
        "datasets": _ids([*datasets, other_dataset]),
        "dataset_slugs": [d.slug for d in [*datasets, other_dataset]],
        "owner_datasets": _ids([d for d in datasets if d.owner == owner]),
        "org_datasets": _ids([d for d in datasets if d.organization == org]),
        "private_dataset": str(private_dataset.id),
        "deleted_dataset": str(deleted_dataset.id),
        "other_dataset": str(other_dataset.id),
        "search_title": SEARCH_TITLE,
        "resources": {str(d.id): [str(r.id) for r in d.resources] for d in datasets[:3]},
        "community_resources": _ids(community_resources),
        "organizations": _ids([org, other_org]),
        "organization_slugs": [org.slug, other_org.slug],
        "reuses": _ids(reuses),
        "dataservices": _ids(dataservices),
        "discussions": _ids(discussions),
        "posts": _ids(posts),
        "post_slugs": [p.slug for p in posts],
        "topics": _ids(topics),
        "topic_elements": _ids(topic_elements),
        "contact_points": _ids([contact]),
        "licenses": [license.id],
        "spatial": {"levels": [level.id], "zones": [zone.id]},
        "tags": ["peer", SEED_TAG, "tag-0", "tag-1", "tag-2"],
        "seed_tag": SEED_TAG,
        **_cast(owner, editor, other, admin),
    }


def _harvested(dataset: Any, rng: random.Random, now: datetime) -> None:
    """A dataset as a harvester leaves it: harvest metadata on it and on its resources."""
    from udata.core.dataset.models import HarvestDatasetMetadata, HarvestResourceMetadata

    dataset.harvest = HarvestDatasetMetadata(
        backend="dcat",
        domain="catalog.example.org",
        source_id=str(uuid.UUID(int=rng.getrandbits(128))),
        remote_id="remote-dataset-1",
        remote_url="https://catalog.example.org/dataset/1",
        created_at=now - timedelta(days=400),
        modified_at=now - timedelta(days=3),
        uri="https://catalog.example.org/dataset/1",
    )
    for resource in dataset.resources:
        resource.harvest = HarvestResourceMetadata(
            uri="https://catalog.example.org/resource/1", issued_at=now - timedelta(days=300)
        )
    dataset.save()


def _extras(
    rng: random.Random,
    *,
    owner: Any,
    other: Any,
    org: Any,
    datasets: list[Any],
    reuses: list[Any],
    now: datetime,
) -> dict[str, Any]:
    """Follows, harvest (failed items without a dataset), transfers, reports, charts, jobs."""
    from udata.core.dataset.models import Dataset
    from udata.core.followers.models import Follow
    from udata.core.jobs.models import PeriodicTask
    from udata.core.organization.models import MembershipRequest
    from udata.core.reports.models import Report
    from udata.core.visualizations.factories import ChartFactory, DataSeriesFactory
    from udata.features.transfer.models import Transfer
    from udata.harvest.models import HarvestError, HarvestItem, HarvestJob, HarvestSource

    follows = [
        Follow(follower=other, following=datasets[0]).save(),
        Follow(follower=owner, following=org).save(),
        Follow(follower=other, following=owner).save(),
    ]
    org.requests.append(MembershipRequest(user=other, comment=None))
    org.save()

    sources = [
        HarvestSource(
            name="Peer harvest source",
            url="http://127.0.0.1/catalog.xml",
            backend="dcat",
            organization=org,
            description=None,
        ).save(),
        HarvestSource(
            name="User harvest source", url="http://127.0.0.1/ckan/", backend="ckan", owner=owner
        ).save(),
    ]
    failed = HarvestError(message="Boom", details="Traceback (most recent call last): ...")
    jobs = [
        HarvestJob(
            source=sources[0],
            status="done-errors",
            started=now - timedelta(hours=2),
            ended=now - timedelta(hours=1),
            errors=[failed],
            items=[
                HarvestItem(remote_id="remote-1", dataset=datasets[3], status="done"),
                HarvestItem(remote_id="remote-2", dataset=None, status="failed", errors=[failed]),
                HarvestItem(remote_id="remote-3", status="skipped"),
            ],
        ).save(),
        HarvestJob(source=sources[1], status="pending").save(),
    ]

    transfer = Transfer(owner=owner, recipient=org, subject=datasets[1], comment=None, user=owner).save()
    gone = Dataset.objects.create(title="Reported then deleted", owner=owner)
    reports = [
        Report(by=other, subject=datasets[2], reason="spam", message="Looks like spam").save(),
        Report(by=None, subject=gone, reason="illegal_content", message="").save(),
    ]
    gone.deleted = now
    gone.save()
    charts = [
        ChartFactory(
            title="Peer chart",
            organization=org,
            series=[DataSeriesFactory.build(resource_id=uuid.UUID(int=rng.getrandbits(128)))],
        ),
        ChartFactory(
            title="User chart",
            owner=owner,
            series=[DataSeriesFactory.build(column_y=None, aggregate_y=None, type=None)],
            y_axis=None,
        ),
    ]
    periodic_task = PeriodicTask(
        name="peer-periodic-task",
        task="purge-datasets",
        interval=PeriodicTask.Interval(every=6, period="hours"),
    ).save()
    csv_exports = _seed_csv_exports(org)
    return {
        "csv_exports_dataset": str(csv_exports.id),
        "follows": _ids(follows),
        "harvest_sources": _ids(sources),
        "harvest_jobs": _ids(jobs),
        "transfers": _ids([transfer]),
        "transfer_subjects": _ids([datasets[1]]),
        "reports": _ids(reports),
        "visualizations": _ids(charts),
        "jobs": _ids([periodic_task]),
    }
