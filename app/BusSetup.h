// The composition root of the bus for one configuration: which store, which
// notifier, wired together. The GUI, the commands and `serve` all start here,
// so choosing a backend is a configuration change only.
#pragma once

#include "BusNotifier.h"
#include "Ports.h"
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
    SqliteEventStore *sqlite() { return m_store.get(); }  // EventDesk's own tables
    Notifier &notifier() { return *m_notifier; }
    EventBus &bus() { return *m_bus; }
    QString location() const { return m_store->location(); }

private:
    LocalBus() = default;
    // Declared so that the store goes first: its queued writes finish and
    // notify while the notifier still exists.
    std::unique_ptr<BusNotifier> m_notifier;
    std::unique_ptr<StoreEventBus> m_bus;
    std::unique_ptr<SqliteEventStore> m_store;
};

} // namespace eventdesk::app
