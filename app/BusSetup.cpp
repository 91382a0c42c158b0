#include "BusSetup.h"

#include "StoreScans.h"

#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

using namespace Qt::StringLiterals;

namespace eventdesk::app {

QString defaultDatabasePath()
{
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).filePath(u"events.db"_s);
}

Result<std::unique_ptr<BusHandle>> BusHandle::open(const BusConfig &config)
{
    const bool onRedis = config.busUrl.startsWith("redis"_L1, Qt::CaseInsensitive);
    if (!config.busUrl.isEmpty() && !onRedis && config.busUrl != "sqlite"_L1 && !config.busUrl.startsWith("sqlite:"_L1))
        return Error{ErrorCode::Usage, u"bus"_s,
                     u"unsupported --bus %1 (use sqlite, or redis://[:password@]host:port/db?stream=NAME)"_s.arg(config.busUrl)};
    std::optional<RedisEndpoint> endpoint;
    if (onRedis) {
        Result<RedisEndpoint> parsed = RedisEndpoint::parse(config.busUrl);
        if (!parsed)
            return parsed.error();
        endpoint = parsed.value();
    }

    SqliteOptions options;
    options.path = config.databasePath;
    if (options.path.isEmpty()) {
        options.path = defaultDatabasePath();
        options.createDirectory = true;  // the embedded default: always there
    }
    options.readOnly = config.readOnly;
    if (config.readOnlyIfUnwritable && QFileInfo::exists(options.path) && !isWritableDatabase(options.path))
        options.readOnly = true;
    // Read commands use EventDesk's own database only if it is there; the
    // window (even on a read-only log) and writing commands make it.
    options.deskWritable = !config.readOnly || config.deskEvenIfReadOnly;
    options.create = config.create && !options.readOnly;
    options.createInExisting = config.createInExisting;
    options.dataVersionPollMs = config.dataVersionPollMs;

    std::unique_ptr<BusHandle> bus(new BusHandle);
    bus->m_notifier = std::make_unique<BusNotifier>(config.fallbackPollMs);
    bus->m_sqlite = std::make_unique<SqliteEventStore>(options);
    if (Result<bool> opened = bus->m_sqlite->openAndWait(); !opened)
        return opened.error();
    if (endpoint) {
        bus->m_redis = std::make_unique<RedisEventStore>(*endpoint);
        if (Result<bool> opened = bus->m_redis->openAndWait(); !opened)
            return opened.error();
        QObject::connect(bus->m_redis.get(), &RedisEventStore::externalRowsDetected, bus->m_notifier.get(),
                         &BusNotifier::externalRowsDetected);
        bus->m_store = bus->m_redis.get();
        bus->m_retention = std::make_unique<LogRetention>(*bus->m_redis, QFileInfo(options.path).absolutePath(),
                                                          bus->m_sqlite->desk());
    } else {
        QObject::connect(bus->m_sqlite.get(), &SqliteEventStore::externalRowsDetected, bus->m_notifier.get(),
                         &BusNotifier::externalRowsDetected);
        bus->m_store = bus->m_sqlite.get();
        bus->m_retention = std::make_unique<LogRetention>(*bus->m_sqlite);
        if (config.index)
            bus->m_sqlite->startIndexing();
    }
    bus->m_bus = std::make_unique<StoreEventBus>(*bus->m_store, *bus->m_notifier);
    return bus;
}

QFuture<Result<BusStatistics>> BusHandle::statistics()
{
    return m_redis ? collectStatistics(*m_redis) : m_sqlite->statistics();
}

} // namespace eventdesk::app
