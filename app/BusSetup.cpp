#include "BusSetup.h"

#include <QDir>
#include <QStandardPaths>
#include <QUrl>

using namespace Qt::StringLiterals;

namespace eventdesk::app {

QString defaultDatabasePath()
{
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).filePath(u"events.db"_s);
}

Result<std::unique_ptr<LocalBus>> LocalBus::open(const BusConfig &config)
{
    if (!config.busUrl.isEmpty() && !config.busUrl.startsWith("sqlite"_L1))
        return Error{ErrorCode::Usage, u"bus"_s, u"unsupported --bus %1 (this build knows sqlite)"_s.arg(config.busUrl)};

    SqliteOptions options;
    options.path = config.databasePath;
    if (options.path.isEmpty()) {
        options.path = defaultDatabasePath();
        options.createDirectory = true;
    }
    options.readOnly = config.readOnly;
    options.dataVersionPollMs = config.dataVersionPollMs;

    std::unique_ptr<LocalBus> bus(new LocalBus);
    bus->m_store = std::make_unique<SqliteEventStore>(options);
    if (Result<bool> opened = bus->m_store->openAndWait(); !opened)
        return opened.error();
    bus->m_notifier = std::make_unique<BusNotifier>(config.fallbackPollMs);
    QObject::connect(bus->m_store.get(), &SqliteEventStore::externalRowsDetected, bus->m_notifier.get(),
                     &BusNotifier::externalRowsDetected);
    bus->m_bus = std::make_unique<StoreEventBus>(*bus->m_store, *bus->m_notifier);
    return bus;
}

} // namespace eventdesk::app
