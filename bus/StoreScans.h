// Whole-log passes over any EventStore, page by page in id order, for the
// stores that have no SQL to ask (Redis): statistics, and the walk that
// retention uses. Each page is one fetchSince; nothing waits on the caller's
// thread, so a command line may wait on the future.
#pragma once

#include "Ports.h"
#include "DeskPorts.h"

#include <QObject>

#include <functional>
#include <optional>

namespace eventdesk {

using PageVisit = std::function<bool(const QList<StoredEvent> &)>;
using PagesDone = std::function<void(std::optional<Error>)>;

// The one way to read a log through, page by page, oldest first: tail,
// export (the command's and the window's), retention and statistics.
// visit(page) for each page of the rows `query` matches after query.afterId
// (query.limit rows a page; newestFirst and offset are not used) until visit
// returns false or the rows end; then done(error or nullopt), once. Each step
// runs on context's thread (a window, a command's event loop), or, with no
// context, on whatever thread answers the store.
void forEachPage(EventStore &store, EventQuery query, QObject *context, PageVisit visit, PagesDone done);
// Every row after afterId, pageSize at a time (no filter).
void forEachPage(EventStore &store, qint64 afterId, int pageSize, PageVisit visit, PagesDone done);
// The same for a command line: waits (in an event loop of its own) until the
// rows end, visit runs on the caller's thread; the error, if any.
std::optional<Error> forEachPageAndWait(EventStore &store, const EventQuery &query, PageVisit visit);

// The same figures as SqliteEventStore::statistics(), counted by reading every event.
QFuture<Result<BusStatistics>> collectStatistics(EventStore &store);

} // namespace eventdesk
