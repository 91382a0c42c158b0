#include "Subscriber.h"

#include "Logging.h"

using namespace Qt::StringLiterals;

namespace eventdesk {

Subscriber::Subscriber(EventStore &store, Notifier &notifier, Options options, QObject *parent)
    : QObject(parent)
    , m_store(store)
    , m_options(std::move(options))
{
    m_retry.setSingleShot(true);
    connect(&m_retry, &QTimer::timeout, this, &Subscriber::fetch);
    connect(&notifier, &Notifier::eventsAvailable, this, [this](qint64 headId) {
        if (headId > 0 && headId < m_cursor) {
            checkHead();  // a head behind us: the log may have gone back
            return;
        }
        if (headId > 0 && headId == m_cursor)
            return;  // nothing new for us
        m_woken = true;
        fetch();
    });
}

void Subscriber::start()
{
    if (m_started)
        return;
    if (m_options.startAfter || m_options.name.isEmpty()) {
        m_cursor = m_options.startAfter.value_or(0);
        m_started = true;
        fetch();
        return;
    }
    m_busy = true;
    m_store.loadCursor(m_options.name).then(this, [this](const Result<qint64> &r) {
        m_busy = false;
        if (!r) {
            qCWarning(lcStore).noquote() << "subscriber" << m_options.name << "cannot load its cursor:" << r.error().message;
            Q_EMIT errorOccurred(r.error());
            m_retry.start(m_options.retryMs);
            return;
        }
        m_cursor = *r;
        m_started = true;
        fetch();
    });
}

void Subscriber::fetch()
{
    if (!m_started) {
        if (!m_busy)
            start();
        return;
    }
    if (m_busy) {
        m_again = true;
        return;
    }
    m_busy = true;
    m_again = false;
    m_store.fetchSince(m_cursor, m_options.batchSize).then(this, [this](const Result<QList<StoredEvent>> &r) {
        m_busy = false;
        if (!r) {
            qCWarning(lcStore).noquote() << "subscriber" << m_options.name << "cannot read:" << r.error().message;
            Q_EMIT errorOccurred(r.error());
            m_retry.start(m_options.retryMs);
            return;
        }
        const QList<StoredEvent> &batch = r.value();
        if (!batch.isEmpty()) {
            m_woken = false;
            m_caughtUp = false;
            for (const StoredEvent &e : batch) {
                if (!e.isDecoded())
                    qCWarning(lcStore).noquote() << "event" << e.id << "does not decode:" << e.decodeError;
            }
            Q_EMIT eventsReceived(batch);
            m_cursor = batch.last().id;
            if (!m_options.name.isEmpty()) {
                const QString name = m_options.name;
                m_store.saveCursor(name, m_cursor).then([name](const Result<bool> &saved) {
                    if (!saved)
                        qCWarning(lcStore).noquote() << "subscriber" << name << "cannot save its cursor:" << saved.error().message;
                });
            }
        }
        if (batch.size() >= m_options.batchSize || m_again) {
            fetch();
            return;
        }
        m_caughtUp = true;
        // Woken, yet nothing past the cursor: the log may have gone back in
        // time (a reset or replaced log wakes us with rows we already "had").
        if (batch.isEmpty() && std::exchange(m_woken, false))
            checkHead();
        Q_EMIT caughtUp(m_cursor);
    });
}

void Subscriber::checkHead()
{
    if (!m_started || m_checkingHead || m_cursor == 0)
        return;
    m_checkingHead = true;
    m_store.headId().then(this, [this](const Result<qint64> &head) {
        m_checkingHead = false;
        if (!head || *head >= m_cursor)
            return;
        const qint64 was = m_cursor;
        qCWarning(lcStore).noquote() << "the event log went back in time: newest id" << *head << "but subscriber"
                                     << (m_options.name.isEmpty() ? u"(live)"_s : m_options.name) << "had read up to" << was
                                     << "- the log was reset or replaced; reading it again from its start";
        m_cursor = 0;
        if (!m_options.name.isEmpty())
            m_store.saveCursor(m_options.name, 0);
        Q_EMIT logWentBack(was, *head);
        fetch();
    });
}

} // namespace eventdesk
