"""A scan's Transcribe inventory with nothing per job on the heap: what was listed and read is
kept in a SQLite file in a private temporary folder, as the ledger's projection
(rules/inventory/ledger.py: ``project`` over ``LEDGER_FIELDS``, the fields the rules read;
tests/test_ledger.py proves they judge the same from it).

A local ``scan`` runs its rules one after another over one inventory. ``TranscribeInventory``
keeps every List summary and every Get response for the run so that the rules share one read:
about 15.5 KB a job, so an account of millions of jobs cannot be scanned. ``StoredInventory``
answers the same interface (rules do not know which inventory they have) and still lists each
kind once and reads each resource at most once for every rule, but:

- the first listing of a kind is streamed from Transcribe page by page (Gets start before the
  listing ends: listing 100,000 jobs at 5 List calls a second takes 3.5 minutes on its own) and
  written to the file as it goes; later listings of the kind are read back from the file;
- a Get's projection, its tags (jobs and categories carry them in the Get response) or the error
  that answered it are written to the file, never held;
- ``resources`` returns a sequence read from the file a page at a time.

Its reads run on ``read_workers`` threads (pacing.ordered_map in the rules' shared code), enough
to reach the paced rate at 40 ms a call, and a read asked for while another thread makes it waits
for that one (never a second Get).

``ReadAhead`` starts the reads the scan's rules will make of every resource of a kind (each rule
says which: ``reads_every``) before the rules get to them, every kind at once, so that each Get
operation is used at its own quota from the scan's first second, also while earlier rules are
still judging from List summaries alone. A kind it lists is listed by it alone: a rule iterating
the kind meanwhile follows the file as it grows.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import sqlite3
import tempfile
import threading
from typing import Any, Callable, Generator, Iterator, Mapping, Sequence, overload

from botocore.exceptions import ClientError

from rules.engine.pacing import MAX_CONCURRENT_READS, RateLimiter, ordered_map
from rules.inventory.ledger import fields_of, project
from rules.inventory.transcribe import (CALL_ANALYTICS_CATEGORY, ListingError, Resource, ResourceGone, ResourceKind,
                                        TranscribeInventory, _as_gone)

READ_LATENCY = 0.040  # seconds a read may take and the paced rate still be reached (issue #14)
MAX_READ_WORKERS = 64
POOL_CONNECTIONS = 10  # botocore's default max_pool_connections (botocore.endpoint.MAX_POOL_CONNECTIONS)
_PAGE = 100  # rows read back from the file at a time

_SCHEMA = """
CREATE TABLE listing (kind TEXT NOT NULL, seq INTEGER NOT NULL, name TEXT NOT NULL, summary TEXT NOT NULL,
                      PRIMARY KEY (kind, seq));
CREATE TABLE listed (kind TEXT PRIMARY KEY);
CREATE TABLE detail (kind TEXT NOT NULL, name TEXT NOT NULL, body TEXT, error TEXT, PRIMARY KEY (kind, name));
CREATE TABLE tags (arn TEXT PRIMARY KEY, body TEXT, error TEXT);
"""


_MARK = "$"  # the store's own marker prefix ({"$datetime": ...}); a real key starting with it gets one more


def _marked(value: Any) -> Any:
    """``value`` with every mapping key that starts with the marker escaped (one more marker), so a
    tag key an account holder chose ("$datetime") never reads back as the store's own marker."""
    if isinstance(value, dict):
        return {(_MARK + key if isinstance(key, str) and key.startswith(_MARK) else key): _marked(item)
                for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_marked(item) for item in value]
    return value


def _encode(value: Any) -> str:
    def default(item: Any) -> Any:
        if isinstance(item, dt.datetime):
            return {"$datetime": item.isoformat()}
        raise TypeError(f"cannot store {type(item).__name__}")
    return json.dumps(_marked(value), default=default, separators=(",", ":"))


def _decode(text: str) -> Any:
    def hook(item: dict[str, Any]) -> Any:
        if len(item) == 1 and "$datetime" in item:
            return dt.datetime.fromisoformat(item["$datetime"])
        return {(key[1:] if key.startswith(_MARK) else key): value for key, value in item.items()}
    return json.loads(text, object_hook=hook)


def _error_text(error: ClientError) -> str:
    return json.dumps({"response": {"Error": dict(error.response.get("Error") or {})},
                       "operation": error.operation_name, "gone": isinstance(error, ResourceGone)})


def _error(text: str) -> ClientError:
    found = json.loads(text)
    cls = ResourceGone if found["gone"] else ClientError
    return cls(found["response"], found["operation"])


def _answer(row: tuple[Any, ...]) -> Any:
    """A stored (body, error) row as the read answered: the body, or the error raised again."""
    body, error = row
    if error is not None:
        raise _error(error)
    return _decode(body)


class LocalLedger:
    """The SQLite file: one connection shared by the reader threads under a lock. Removed by
    ``close`` (and with its temporary folder when the process ends without it)."""

    def __init__(self, folder: str | None = None):
        self._folder = tempfile.TemporaryDirectory(prefix="transcribe-guard-scan-", dir=folder)
        self.path = os.path.join(self._folder.name, "inventory.sqlite3")
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=OFF")  # a scratch file: nothing to recover after a crash
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.executescript(_SCHEMA)

    def execute(self, sql: str, values: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, values).fetchall()

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(sql, rows)
            self._db.execute("COMMIT")

    def counts(self) -> dict[str, int]:
        """Rows per table (what the file holds, for tests and the benchmark)."""
        return {table: int(self.execute(f"SELECT COUNT(*) FROM {table}")[0][0])
                for table in ("listing", "detail", "tags")}

    def close(self) -> None:
        with self._lock:
            self._db.close()
        self._folder.cleanup()


class StoredListing(Sequence[Resource]):
    """One kind's listing as a sequence read back from the file, a page at a time."""

    def __init__(self, inventory: "StoredInventory", kind: ResourceKind):
        self._inventory, self._kind = inventory, kind

    def __len__(self) -> int:
        return int(self._inventory.store.execute("SELECT COUNT(*) FROM listing WHERE kind = ?", (self._kind.key,))[0][0])

    @overload
    def __getitem__(self, index: int) -> Resource: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Resource]: ...

    def __getitem__(self, index: int | slice) -> Resource | Sequence[Resource]:
        if isinstance(index, slice):
            return list(self)[index]
        position = index if index >= 0 else len(self) + index
        rows = self._inventory.store.execute("SELECT name, summary FROM listing WHERE kind = ? AND seq = ?",
                                             (self._kind.key, position))
        if not rows:
            raise IndexError(index)
        return self._inventory._resource(self._kind, rows[0][0], rows[0][1])

    def __iter__(self) -> Iterator[Resource]:
        return self._inventory._stored(self._kind)


class StoredInventory(TranscribeInventory):
    """TranscribeInventory's interface over live calls, with what was listed and read kept in a
    LocalLedger instead of on the heap. ``forget`` has nothing to drop."""

    def __init__(self, client: Any, account_id: str, store: LocalLedger, partition: str = "aws",
                 limiter_factory: Callable[[], RateLimiter] | None = None,
                 read_workers: Callable[[dict[str, float]], int] | None = None):
        super().__init__(client, account_id, partition)
        self.store = store
        self._limiter_factory = limiter_factory
        self._read_workers = read_workers
        self._listing: set[str] = set()  # kinds whose first listing is under way
        self._listing_lock = threading.Lock()
        self._producers: dict[str, _Producer] = {}  # kinds a ReadAhead lists: followed, never listed again
        self._reading: dict[tuple[str, ...], threading.Event] = {}  # reads under way, by what they read
        self._reading_lock = threading.Lock()
        self._limiter_lock = threading.Lock()
        # No more calls in flight than the client keeps connections (botocore's pool, 10 unless
        # configured): the read-ahead's threads would otherwise open and discard one per call.
        pool = getattr(getattr(getattr(client, "meta", None), "config", None), "max_pool_connections", None)
        self._connections = threading.BoundedSemaphore(pool if isinstance(pool, int) and pool > 0 else POOL_CONNECTIONS)

    @property
    def limiter(self) -> RateLimiter:
        """The scan's own limiter (``scan --max-tps``), made on the first call like the shared one."""
        with self._limiter_lock:  # made once, however many threads make the first calls at once
            if self._limiter is None and self._limiter_factory is not None:
                self._limiter = self._limiter_factory()
            return super().limiter

    @property
    def read_workers(self) -> int:
        """Reads in flight for the rules' shared code (pacing.ordered_map)."""
        return self._read_workers(self.limiter.rates) if self._read_workers else MAX_CONCURRENT_READS

    def _send(self, operation: str, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        with self._connections:  # after the limiter's token: a call waiting for its rate holds no connection
            return super()._send(operation, kwargs)

    def _resource(self, kind: ResourceKind, name: str, summary: str) -> Resource:
        return Resource(kind, name, self.arn(kind, name), _decode(summary))

    def resources(self, kind: ResourceKind) -> Sequence[Resource]:  # type: ignore[override]  # a sequence, not a list
        """Every resource of ``kind`` in List order, listed from Transcribe once per scan. A first
        page that cannot be listed raises ListingError here, as a whole listing does in
        TranscribeInventory; a later page raises it while the sequence is iterated."""
        if self._complete(kind):
            return StoredListing(self, kind)
        producer = self._producers.get(kind.key)
        if producer is not None and producer.finished and producer.failure is not None:
            self._producers.pop(kind.key, None)  # its listing failed: this one is made afresh, as it would have been
            producer = None
        if producer is not None:  # a ReadAhead is listing it: follow (failing here if its first page did)
            producer.wait_for_first_page()
            return _Followed(self, kind, producer)
        first = self._live(kind)
        head = next(first, None)  # the first page now: a listing that fails at once fails here
        return _Streamed(self, kind, head, first)

    def _complete(self, kind: ResourceKind) -> bool:
        return bool(self.store.execute("SELECT 1 FROM listed WHERE kind = ?", (kind.key,)))

    def _live(self, kind: ResourceKind) -> Generator[list[Resource], None, None]:
        """List ``kind`` from Transcribe a page at a time, writing it to the file; only the first
        listing writes (another listing started meanwhile only reads)."""
        with self._listing_lock:
            writing = kind.key not in self._listing and not self._complete(kind)
            if writing:
                self._listing.add(kind.key)
                self.store.execute("DELETE FROM listing WHERE kind = ?", (kind.key,))  # an earlier, broken-off one
        seq = 0
        paths = fields_of(kind, "summary")
        try:
            for _token, page in self.pages(kind):
                if writing:
                    self.store.executemany("INSERT INTO listing VALUES (?, ?, ?, ?)",
                                           [(kind.key, seq + i, r.name, _encode(project(r.summary, paths)))
                                            for i, r in enumerate(page)])
                    seq += len(page)
                    producer = self._producers.get(kind.key)
                    if producer is not None:
                        producer.wrote(seq)
                yield [Resource(r.kind, r.name, r.arn, project(r.summary, paths)) for r in page]
            if writing:
                self.store.execute("INSERT OR REPLACE INTO listed VALUES (?)", (kind.key,))
        finally:
            if writing:
                with self._listing_lock:
                    self._listing.discard(kind.key)

    def _rows_after(self, kind: ResourceKind, last: int) -> list[tuple[Any, ...]]:
        return self.store.execute("SELECT seq, name, summary FROM listing WHERE kind = ? AND seq > ? "
                                  "ORDER BY seq LIMIT ?", (kind.key, last, _PAGE))

    def _stored(self, kind: ResourceKind) -> Iterator[Resource]:
        last = -1
        while True:
            rows = self._rows_after(kind, last)
            for seq, name, summary in rows:
                last = seq
                yield self._resource(kind, name, summary)
            if len(rows) < _PAGE:
                return

    def _follow(self, kind: ResourceKind, producer: "_Producer") -> Iterator[Resource]:
        """The listing a ReadAhead is writing, read from the file as it grows, to its end (or its
        failure, raised as the listing itself would have)."""
        last = -1
        while True:
            finished = producer.finished  # before the read: rows written before the end are all read
            rows = self._rows_after(kind, last)
            for seq, name, summary in rows:
                last = seq
                yield self._resource(kind, name, summary)
            if rows:
                continue
            if finished:
                producer.raise_failure()
                return
            producer.wait_for_more(last + 1)

    def _once(self, key: tuple[str, ...], stored: Callable[[], list[tuple[Any, ...]]],
              read: Callable[[], Any]) -> Any:
        """The stored answer to a read, or ``read()``'s (which stores it), made by one thread at a
        time: a thread asking while another makes the same read waits for it, so no resource is
        read twice however many rules and read-ahead threads want it at once."""
        while True:
            rows = stored()
            if rows:
                return _answer(rows[0])
            with self._reading_lock:
                other = self._reading.get(key)
                if other is None:
                    mine = self._reading[key] = threading.Event()
                    break
            other.wait()
        try:
            rows = stored()  # made and stored between the first look and taking the read
            return _answer(rows[0]) if rows else read()
        finally:
            with self._reading_lock:
                del self._reading[key]
            mine.set()

    def forget(self, resource: Resource) -> None:
        """Nothing is held per resource."""

    def detail(self, resource: Resource) -> dict[str, Any]:
        kind = resource.kind
        return self._once(("detail", kind.key, resource.name),  # type: ignore[no-any-return]
                          lambda: self.store.execute("SELECT body, error FROM detail WHERE kind = ? AND name = ?",
                                                     (kind.key, resource.name)),
                          lambda: self._read_detail(resource))

    def _read_detail(self, resource: Resource) -> dict[str, Any]:
        kind = resource.kind
        try:
            body = self._get(resource)
        except ClientError as failed:  # listed moments ago: "not found" means deleted since
            error = _as_gone(failed)
            self.store.execute("INSERT OR REPLACE INTO detail VALUES (?, ?, NULL, ?)",
                               (kind.key, resource.name, _error_text(error)))
            raise error from None
        projection = project(body, fields_of(kind, "detail"))
        self.store.execute("INSERT OR REPLACE INTO detail VALUES (?, ?, ?, NULL)",
                           (kind.key, resource.name, _encode(projection)))
        if kind.is_job or kind is CALL_ANALYTICS_CATEGORY:  # their tags come with the Get: kept, not read again
            self._keep_tags(resource, {t["Key"]: t.get("Value", "") for t in body.get("Tags") or []})
        return projection

    def _keep_tags(self, resource: Resource, tags: dict[str, str]) -> None:
        self.store.execute("INSERT OR REPLACE INTO tags VALUES (?, ?, NULL)", (resource.arn, _encode(tags)))
        if self.tags_seen is not None:
            self.tags_seen[resource.arn] = dict(tags)

    def tags(self, resource: Resource) -> dict[str, str]:
        def stored() -> list[tuple[Any, ...]]:
            return self.store.execute("SELECT body, error FROM tags WHERE arn = ?", (resource.arn,))
        rows = stored()
        if not rows and (resource.kind.is_job or resource.kind is CALL_ANALYTICS_CATEGORY):
            self.detail(resource)  # raises when the Get failed; keeps the tags otherwise
            rows = stored()
        if rows:
            return _answer(rows[0])  # type: ignore[no-any-return]
        return self._once(("tags", resource.arn), stored, lambda: self._list_tags(resource))  # type: ignore[no-any-return]

    def _list_tags(self, resource: Resource) -> dict[str, str]:
        try:
            tag_list = self._call("list_tags_for_resource", ResourceArn=resource.arn).get("Tags", [])
        except ClientError as failed:
            error = _as_gone(failed)
            self.store.execute("INSERT OR REPLACE INTO tags VALUES (?, NULL, ?)", (resource.arn, _error_text(error)))
            raise error from None
        tags = {t["Key"]: t.get("Value", "") for t in tag_list}
        self._keep_tags(resource, tags)
        return tags


class _Producer:
    """A kind's first listing, made by a ReadAhead thread (the only one writing it to the file):
    how far it has got, whether it has ended and how."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.written = 0  # rows in the file
        self.finished = False
        self.failure: BaseException | None = None

    def wrote(self, rows: int) -> None:
        with self._changed:
            self.written = rows
            self._changed.notify_all()

    def finish(self, failure: BaseException | None = None) -> None:
        with self._changed:
            self.finished, self.failure = True, failure
            self._changed.notify_all()

    def wait_for_more(self, rows: int) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self.finished or self.written > rows)

    def wait_for_first_page(self) -> None:
        """Returns once the listing has a page (or has ended); a listing that failed before its
        first page raises its failure now, as ``resources`` would have."""
        self.wait_for_more(0)
        if self.written == 0:
            self.raise_failure()

    def raise_failure(self) -> None:
        failure = self.failure
        if isinstance(failure, ListingError):  # a fresh one for each follower (a raise changes its traceback)
            raise ListingError(failure.kind, failure.error) from failure
        if failure is not None:
            raise failure


class _ListingUnderWay(Sequence[Resource]):
    """A kind's first listing while it goes on: iterated as it comes; its length or an item
    (rarely asked for) once the listing has ended, from the file."""

    _inventory: StoredInventory
    _kind: ResourceKind

    def _whole(self) -> StoredListing:
        for _ in self:  # finish the listing first
            pass
        return StoredListing(self._inventory, self._kind)

    def __len__(self) -> int:
        return len(self._whole())

    @overload
    def __getitem__(self, index: int) -> Resource: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Resource]: ...

    def __getitem__(self, index: int | slice) -> Resource | Sequence[Resource]:
        return self._whole()[index]


class _Followed(_ListingUnderWay):
    """A kind a ReadAhead is listing, read from the file as the listing goes on."""

    def __init__(self, inventory: StoredInventory, kind: ResourceKind, producer: _Producer):
        self._inventory, self._kind, self._producer = inventory, kind, producer

    def __iter__(self) -> Iterator[Resource]:
        return self._inventory._follow(self._kind, self._producer)


class ReadAhead:
    """The reads a scan's rules will make of every resource of some kinds, started before the
    rules reach them: for each kind, one thread lists it (the kind's only listing, written to the
    file) and one reads what is listed, ``inventory.read_workers`` reads in flight, every kind at
    once, each Get at its own paced rate (the inventory's limiter, shared with the rules). The
    reads are the rules' own (``detail``, ``tags``): answers and errors are stored, a rule asking
    for one being read waits for it, and a read that fails otherwise is left for the rule to make
    and report. ``close`` stops it, once the rules have run."""

    def __init__(self, inventory: StoredInventory, reads: dict[ResourceKind, set[str]]):
        self.inventory = inventory
        self.reads = {kind: what for kind, what in reads.items() if what}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> "ReadAhead":
        if self.reads:
            self.inventory.limiter  # made here, before the threads share it
        for kind, what in self.reads.items():
            if self.inventory._complete(kind) or kind.key in self.inventory._producers:
                continue
            producer = self.inventory._producers[kind.key] = _Producer()
            for work, name in ((lambda k=kind, p=producer: self._list(k, p), "list"),
                               (lambda k=kind, p=producer, w=frozenset(what): self._read(k, p, w), "read")):
                thread = threading.Thread(target=work, name=f"transcribe-guard-ahead-{name}-{kind.key}", daemon=True)
                thread.start()
                self._threads.append(thread)
        return self

    def _list(self, kind: ResourceKind, producer: _Producer) -> None:
        pages = self.inventory._live(kind)
        try:
            for _page in pages:
                if self._stop.is_set():
                    producer.finish(RuntimeError(f"the scan ended before {kind.label}s were all listed"))
                    return
            producer.finish()
        except BaseException as failure:  # raised to whoever follows the listing, as it would have been to them
            producer.finish(failure)
        finally:
            pages.close()

    def _read(self, kind: ResourceKind, producer: _Producer, what: frozenset[str]) -> None:
        def read(resource: Resource) -> None:
            try:
                if "tags" in what:  # a job's or category's tags come with its Get (and the details with them)
                    self.inventory.tags(resource)
                if "detail" in what:
                    self.inventory.detail(resource)
            except Exception:  # stored when it is Transcribe's answer; otherwise the rule reads it itself
                pass
        try:
            for _ in ordered_map(read, self.inventory._follow(kind, producer), workers=self.inventory.read_workers,
                                 stop=self._stop.is_set):
                pass
        except Exception:  # the listing failed: the rules following it are told
            pass

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        for kind in self.reads:
            self.inventory._producers.pop(kind.key, None)


class _Streamed(_ListingUnderWay):
    """A first listing under way: iterating it goes on listing live (and writing the file) the
    first time, and reads the file afterwards."""

    def __init__(self, inventory: StoredInventory, kind: ResourceKind, head: list[Resource] | None,
                 rest: Generator[list[Resource], None, None]):
        self._inventory, self._kind = inventory, kind
        self._head, self._rest = head, rest
        self._used = False

    def __iter__(self) -> Iterator[Resource]:
        if self._inventory._complete(self._kind):
            self._rest.close()
            yield from StoredListing(self._inventory, self._kind)
            return
        if self._used:  # an earlier iteration broke off before the listing ended: list again
            pages: Iterator[list[Resource]] = self._inventory._live(self._kind)
        else:
            self._used = True
            pages = self._rest
            if self._head is not None:
                yield from self._head
        for page in pages:
            yield from page


def read_workers(rates: dict[str, float], operations: Sequence[str]) -> int:
    """Reads in flight to reach the fastest of ``operations``' paced rates at READ_LATENCY a
    call, with one as much again queued (at least pacing's MAX_CONCURRENT_READS)."""
    fastest = max((rates.get(operation, 0.0) for operation in operations), default=0.0)
    return max(MAX_CONCURRENT_READS, min(MAX_READ_WORKERS, math.ceil(2 * fastest * READ_LATENCY)))

