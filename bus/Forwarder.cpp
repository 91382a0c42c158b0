#include "Forwarder.h"

#include "BusLog.h"

using namespace Qt::StringLiterals;

namespace eventdesk {

Forwarder::Forwarder(EventStore &source, Notifier &sourceNotifier, RedisEventStore &target, Options options, QObject *parent)
    : QObject(parent)
    , m_target(target)
    , m_options(std::move(options))
    // After a failure the cursor is read again: the batch may have landed
    // even though its reply did not.
    , m_pump(source, [this] { return m_target.forwardCursor(m_options.sourceName); },
             [this](const QList<StoredEvent> &rows) { return forward(rows); },
             CursorPump::Options{m_options.batchSize, m_options.retryMs, 30000, true}, this)
{
    connect(&sourceNotifier, &Notifier::eventsAvailable, this, [this] {
        if (m_pump.isStarted())
            m_pump.wake();
    });
    connect(&m_pump, &CursorPump::loaded, this, [this](qint64 cursor) { Q_EMIT progressed(cursor, m_forwarded); });
    connect(&m_pump, &CursorPump::advanced, this, [this](qint64 cursor) { Q_EMIT progressed(cursor, m_forwarded); });
    connect(&m_pump, &CursorPump::caughtUp, this, &Forwarder::caughtUp);
    connect(&m_pump, &CursorPump::failed, this, [this](const Error &error) {
        qCWarning(lcRedis) << "forward:" << error.message << "- retrying";
        Q_EMIT errorOccurred(error);
    });
}

void Forwarder::start()
{
    m_pump.start();
}

// One script call appends the rows not forwarded yet and moves the cursor in
// Redis with them: each source row lands once.
QFuture<Result<bool>> Forwarder::forward(const QList<StoredEvent> &rows)
{
    QList<RedisRow> out;
    out.reserve(rows.size());
    for (const StoredEvent &e : rows)
        out.append(RedisRow{e.eventType, e.payload, e.createdAtText, e.worldId(), e.id, e.isEngineMessage()});
    return m_target.appendForwarded(m_options.sourceName, out).then(this, [this](const BatchPublishResult &ids) -> Result<bool> {
        if (!ids)
            return ids.error();
        m_forwarded += ids->size();
        return true;
    });
}

} // namespace eventdesk
