#include "Forwarder.h"

#include "Logging.h"

using namespace Qt::StringLiterals;

namespace eventdesk {

Forwarder::Forwarder(EventStore &source, Notifier &sourceNotifier, RedisEventStore &target, Options options, QObject *parent)
    : QObject(parent)
    , m_source(source)
    , m_target(target)
    , m_options(std::move(options))
{
    m_retry.setSingleShot(true);
    // After a failure the cursor is read again: the batch may have landed
    // even though its reply did not.
    connect(&m_retry, &QTimer::timeout, this, &Forwarder::loadCursor);
    connect(&sourceNotifier, &Notifier::eventsAvailable, this, [this] {
        if (m_ready)
            pump();
    });
}

void Forwarder::start()
{
    loadCursor();
}

void Forwarder::loadCursor()
{
    m_ready = false;
    m_target.forwardCursor(m_options.sourceName).then(this, [this](const Result<qint64> &r) {
        if (!r) {
            failed(r.error());
            return;
        }
        m_cursor = r.value();
        m_ready = true;
        Q_EMIT progressed(m_cursor, m_forwarded);
        pump();
    });
}

void Forwarder::failed(const Error &error)
{
    m_busy = false;
    m_ready = false;
    m_backoffMs = m_backoffMs ? qMin(m_backoffMs * 2, 30000) : m_options.retryMs;
    qCWarning(lcRedis) << "forward:" << error.message << "- retrying in" << m_backoffMs << "ms";
    Q_EMIT errorOccurred(error);
    m_retry.start(m_backoffMs);
}

void Forwarder::pump()
{
    if (m_busy) {
        m_again = true;
        return;
    }
    m_busy = true;
    m_again = false;
    m_source.fetchSince(m_cursor, m_options.batchSize).then(this, [this](const Result<QList<StoredEvent>> &rows) {
        if (!rows) {
            failed(rows.error());
            return;
        }
        if (rows->isEmpty()) {
            m_busy = false;
            m_backoffMs = 0;
            Q_EMIT caughtUp(m_cursor);
            if (m_again)
                pump();
            return;
        }
        QList<RedisRow> out;
        out.reserve(rows->size());
        for (const StoredEvent &e : rows.value())
            out.append(RedisRow{e.eventType, e.payload, e.createdAtText, e.event ? e.event->worldId() : QString(), e.id});
        const qint64 last = rows->last().id;
        m_target.appendForwarded(m_options.sourceName, out).then(this, [this, last](const BatchPublishResult &ids) {
            if (!ids) {
                failed(ids.error());
                return;
            }
            m_cursor = last;
            m_forwarded += ids->size();
            m_busy = false;
            m_backoffMs = 0;
            Q_EMIT progressed(m_cursor, m_forwarded);
            pump();  // more may be waiting: go until a read comes back empty
        });
    });
}

} // namespace eventdesk
