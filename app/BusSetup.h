// The composition root of the bus for one configuration: which store, which
// notifier, wired together. The GUI, the commands and `serve` all start here,
// so choosing a backend is a configuration change only.
//
// On SQLite the database holds the events and EventDesk's own tables. With
// --bus redis://… the events live in a Redis stream and EventDesk's own tables
// (challenges, audit log, projections) stay in the local database.
#pragma once

#include "BusNotifier.h"
#include "Ports.h"
#include "RedisEventStore.h"
#include "SqliteEventStore.h"

#include <QString>

#include <memory>

namespace eventdesk::app {

struct BusConfig {
    QString databasePath;      // empty: the default database under the user's data folder
    QString busUrl;            // empty or sqlite: the database; redis://… for Redis Streams
    bool readOnly = false;
    int fallbackPollMs = 30000;
    int dataVersionPollMs = 250;
};

// Where EventDesk keeps its own database when no --db is given.
QString defaultDatabasePath();

class LocalBus
{
public:
    static Result<std::unique_ptr<LocalBus>> open(const BusConfig &config);

    EventStore &store() { return *m_store; }
    // EventDesk's own tables (and, on SQLite, the events too).
    SqliteEventStore *sqlite() { return m_sqlite.get(); }
    // The Redis stream when the bus is on Redis, else null.
    RedisEventStore *redis() { return m_redis.get(); }
    Notifier &notifier() { return *m_notifier; }
    EventBus &bus() { return *m_bus; }
    QString location() const { return m_store->location(); }

private:
    LocalBus() = default;
    // Declared so that the stores go first: their queued writes finish and
    // notify while the notifier still exists.
    std::unique_ptr<BusNotifier> m_notifier;
    std::unique_ptr<StoreEventBus> m_bus;
    std::unique_ptr<SqliteEventStore> m_sqlite;
    std::unique_ptr<RedisEventStore> m_redis;
    EventStore *m_store = nullptr;
};

} // namespace eventdesk::app
