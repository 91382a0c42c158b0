// Whole-log passes over any EventStore, page by page in id order, for the
// stores that have no SQL to ask (Redis): statistics, and the walk that
// retention uses. Each page is one fetchSince; nothing waits on the caller's
// thread, so a command line may wait on the future.
#pragma once

#include "Ports.h"
#include "DeskPorts.h"

#include <functional>

namespace eventdesk {

// visit(page) for each page after afterId until it returns false or the log
// ends; then done(error or nullopt). Runs on whatever thread answers the store.
void forEachPage(EventStore &store, qint64 afterId, int pageSize,
                 std::function<bool(const QList<StoredEvent> &)> visit,
                 std::function<void(std::optional<Error>)> done);

// The same figures as SqliteEventStore::statistics(), counted by reading every event.
QFuture<Result<BusStatistics>> collectStatistics(EventStore &store);

} // namespace eventdesk
