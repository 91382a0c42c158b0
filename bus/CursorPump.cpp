#include "CursorPump.h"

#include "BusLog.h"

namespace eventdesk {

CursorPump::CursorPump(EventStore &source, LoadCursor load, Sink sink, Options options, QObject *parent)
    : QObject(parent)
    , m_source(source)
    , m_load(std::move(load))
    , m_sink(std::move(sink))
    , m_options(options)
{
    m_retry.setSingleShot(true);
    connect(&m_retry, &QTimer::timeout, this, [this] {
        if (!m_started)
            this->load();
        else
            read();
    });
}

void CursorPump::start()
{
    if (m_started || m_busy)
        return;
    load();
}

void CursorPump::load()
{
    m_started = false;
    m_busy = true;
    m_load().then(this, [this](const Result<qint64> &r) {
        m_busy = false;
        if (!r) {
            fail(r.error());
            return;
        }
        m_cursor = r.value();
        m_started = true;
        Q_EMIT loaded(m_cursor);
        read();
    });
}

void CursorPump::wake()
{
    if (!m_started) {
        if (!m_busy && !m_retry.isActive())
            load();
        return;
    }
    read();
}

void CursorPump::restartFrom(qint64 cursor)
{
    m_cursor = cursor;
    if (m_started)
        read();
}

void CursorPump::read()
{
    if (!m_started || m_retry.isActive())
        return;
    if (m_busy) {
        m_again = true;
        return;
    }
    m_busy = true;
    m_again = false;
    const qint64 from = m_cursor;
    m_source.fetchSince(from, m_options.batchSize).then(this, [this, from](const Result<QList<StoredEvent>> &r) {
        if (!r) {
            m_busy = false;
            fail(r.error());
            return;
        }
        const QList<StoredEvent> batch = r.value();
        if (batch.isEmpty()) {
            m_busy = false;
            m_backoffMs = 0;
            if (m_again) {
                read();
                return;
            }
            Q_EMIT caughtUp(m_cursor, true);
            return;
        }
        const qint64 last = batch.last().id;
        const bool full = batch.size() >= m_options.batchSize;
        m_sink(batch).then(this, [this, from, last, full, rows = batch.size()](const Result<bool> &done) {
            m_busy = false;
            if (!done) {
                fail(done.error());
                return;
            }
            m_backoffMs = 0;
            if (m_cursor == from)  // not moved meanwhile (restartFrom)
                m_cursor = last;
            Q_EMIT advanced(m_cursor, rows);
            if (full || m_again) {
                read();
                return;
            }
            Q_EMIT caughtUp(m_cursor, false);
        });
    });
}

void CursorPump::fail(const Error &error)
{
    m_backoffMs = m_backoffMs ? qMin(m_backoffMs * 2, std::max(m_options.retryMs, m_options.maxRetryMs)) : m_options.retryMs;
    if (m_options.reloadAfterFailure)
        m_started = false;
    Q_EMIT failed(error);
    m_retry.start(m_backoffMs);
}

} // namespace eventdesk
