// The composition root of the bus for one configuration: which store, which
// notifier, wired together. The GUI, the commands and `serve` all start here,
// so choosing a backend is a configuration change only.
//
// On SQLite the database holds the events, and EventDesk's own database beside
// it holds everything else (row index, challenges, audit log, projections).
// With --bus redis://… the events live in a Redis stream and EventDesk's own
// database is the one beside the local database.
#pragma once

#include "BusNotifier.h"
#include "DeskPorts.h"
#include "Ports.h"
#include "Retention.h"
#include "RedisEventStore.h"
#include "SqliteEventStore.h"

#include <QString>

#include <memory>

namespace eventdesk::app {

struct BusConfig {
    QString databasePath;      // empty: the default database under the user's data folder
    QString busUrl;            // empty or sqlite: the database; redis://… for Redis Streams
    bool readOnly = false;
    bool readOnlyIfUnwritable = false;  // the window: a file it cannot write is opened read-only
    bool create = true;                 // a missing --db file becomes a new database (never when read-only)
    bool createInExisting = false;      // --create: an empty file or one without app_events gets the table
    bool index = false;                 // fill and follow the row index (the window, serve)
    bool deskEvenIfReadOnly = false;    // a read-only log with a writable desk of its own (index)
    int fallbackPollMs = 30000;
    int dataVersionPollMs = 250;
};

// Where EventDesk keeps its own database when no --db is given.
QString defaultDatabasePath();

// An open bus: the event log's store and notifier, the publishing port, and
// EventDesk's own database beside it. Commands and the window use its ports;
// what differs between SQLite and Redis is decided here.
class BusHandle
{
public:
    static Result<std::unique_ptr<BusHandle>> open(const BusConfig &config);

    EventStore &store() { return *m_store; }
    // The local database (on SQLite, the events too).
    SqliteEventStore *sqlite() { return m_sqlite.get(); }
    // EventDesk's own database beside it; null when read-only and none exists yet.
    DeskDatabase *desk() { return m_sqlite->desk(); }
    // The ports the window and the commands use beyond the event log.
    DeskBook *book() { return m_sqlite->desk(); }
    LogWatch *watch() { return m_sqlite.get(); }
    Retention &retention() { return *m_retention; }
    // The Redis stream when the bus is on Redis, else null.
    RedisEventStore *redis() { return m_redis.get(); }
    // The log's file, watched (replaced on disk, locked, read-only, the row
    // index's progress); null on Redis, whose stream has no file.
    LogWatch *logFile() { return m_redis ? nullptr : m_sqlite.get(); }
    // Counts per type and world, rates, challenge success: by SQL on SQLite,
    // by reading every entry on Redis.
    QFuture<Result<BusStatistics>> statistics();
    Notifier &notifier() { return *m_notifier; }
    EventBus &bus() { return *m_bus; }
    QString location() const { return m_store->location(); }

private:
    BusHandle() = default;
    // Declared so that the stores go first: their queued writes finish and
    // notify while the notifier still exists.
    std::unique_ptr<BusNotifier> m_notifier;
    std::unique_ptr<StoreEventBus> m_bus;
    std::unique_ptr<SqliteEventStore> m_sqlite;
    std::unique_ptr<RedisEventStore> m_redis;
    std::unique_ptr<LogRetention> m_retention;
    EventStore *m_store = nullptr;
};

} // namespace eventdesk::app
