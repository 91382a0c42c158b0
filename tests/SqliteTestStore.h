// Opens a SQLite event store for a test: the store, or null (with the reason
// in the test's log) when it cannot be opened.
#pragma once

#include "SqliteEventStore.h"

#include <QDebug>

#include <memory>

namespace eventdesk::test {

inline std::unique_ptr<SqliteEventStore> openSqliteStore(const QString &path, SqliteOptions options = {})
{
    options.path = path;
    auto store = std::make_unique<SqliteEventStore>(options);
    const Result<bool> r = store->openAndWait();
    if (!r)
        qWarning() << r.error().message;
    return r ? std::move(store) : nullptr;
}

} // namespace eventdesk::test
