"""Fill the search-service stand-in with the seeded objects, then keep it in step, as udata does.

All three run in the launcher, inside the app context:

- `init_indices()`, before seeding: udata_search_service's `ElasticClient.init_indices()` (index
  templates with udata's analyzers and mappings, one time-stamped index per model behind its alias),
  as `udata search init-es` does. It must come first: udata indexes some objects while they are
  created whatever `AUTO_INDEX` says (a topic element reindexes its dataset/reuse/dataservice), and a
  document written before its template exists would get Elasticsearch's dynamic mapping instead.
- `index_all()`, after seeding: udata's own `reindex` task for every object of every model with a
  search adapter (it indexes the object when the adapter says it is indexable, unindexes it otherwise).
- `index_in_background()`: switches `AUTO_INDEX` on and runs udata's `reindex`/`unindex` tasks off the
  request thread. In production they go to a Celery worker (queue "high.search"), so a write answers
  before the object is searchable; the peer runs Celery eagerly (no broker), which would index inside
  the request, and a dataservice's indexing fetches its `machine_documentation_url` (up to 10 s per
  read, udata's own timeout) — a slow documentation server would hold the POST. Here each object's
  tasks run in order on a thread of their own: search is eventually consistent, as on data.gouv.fr.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from flask import current_app


def init_indices() -> None:
    from udata.search import get_elastic_client

    get_elastic_client().init_indices()


def index_all() -> dict[str, int]:
    """Index every object; returns how many objects of each model are now searchable."""
    from udata.search import adapter_catalog, reindex
    from udata.tasks import as_task_param

    counts: dict[str, int] = {}
    for model, adapter in sorted(adapter_catalog.items(), key=lambda item: item[0].__name__):
        indexed = 0
        for obj in model.objects:
            reindex(*as_task_param(obj))  # the Celery task's body, run inline
            indexed += bool(adapter.is_indexable(obj))
        counts[model.__name__] = indexed
    return counts


class _Worker:
    """One drain thread per object with pending tasks: in order per object, never blocking others."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[tuple[Any, ...], deque[tuple[Any, tuple[Any, ...]]]] = {}

    def submit(self, task: Any, args: tuple[Any, ...]) -> None:
        key = tuple(args[:2])  # (model class name, id)
        with self._lock:
            queue = self._pending.get(key)
            if queue is not None:
                queue.append((task, args))
                return
            self._pending[key] = deque([(task, args)])
        threading.Thread(target=self._drain, args=(key,), name=f"search-index {key}", daemon=True).start()

    def _drain(self, key: tuple[Any, ...]) -> None:
        while True:
            with self._lock:
                queue = self._pending[key]
                if not queue:
                    del self._pending[key]
                    return
                task, args = queue.popleft()
            task(*args)  # udata's ContextTask enters the app context itself; errors are logged there


def index_in_background() -> None:
    from udata.search import reindex, unindex

    worker = _Worker()
    for task in (reindex, unindex):
        task.delay = lambda *args, _task=task: worker.submit(_task, args)
    current_app.config["AUTO_INDEX"] = True
