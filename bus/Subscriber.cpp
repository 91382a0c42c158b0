#include "Subscriber.h"

#include "BusLog.h"

using namespace Qt::StringLiterals;

namespace eventdesk {

Subscriber::Subscriber(EventStore &store, Notifier &notifier, Options options, QObject *parent)
    : QObject(parent)
    , m_store(store)
    , m_options(std::move(options))
    , m_pump(store, [this] { return loadCursor(); }, [this](const QList<StoredEvent> &batch) { return deliver(batch); },
             CursorPump::Options{m_options.batchSize, m_options.retryMs, m_options.retryMs, false}, this)
{
    connect(&notifier, &Notifier::eventsAvailable, this, [this](qint64 headId) {
        if (headId > 0 && headId < m_pump.cursor()) {
            checkHead();  // a head behind us: the log may have gone back
            return;
        }
        if (headId > 0 && headId == m_pump.cursor() && m_pump.isStarted())
            return;  // nothing new for us
        m_woken = true;
        m_pump.wake();
    });
    connect(&m_pump, &CursorPump::failed, this, [this](const Error &error) {
        qCWarning(lcStore).noquote() << "subscriber" << m_options.name << "cannot read:" << error.message;
        Q_EMIT errorOccurred(error);
    });
    connect(&m_pump, &CursorPump::caughtUp, this, [this](qint64 cursor, bool emptyRead) {
        m_caughtUp = true;
        // Woken, yet nothing past the cursor: the log may have gone back in
        // time (a reset or replaced log wakes us with rows we already "had").
        if (emptyRead && std::exchange(m_woken, false))
            checkHead();
        Q_EMIT caughtUp(cursor);
    });
}

void Subscriber::start()
{
    m_pump.start();
}

QFuture<Result<qint64>> Subscriber::loadCursor()
{
    if (m_options.startAfter || m_options.name.isEmpty())
        return QtFuture::makeReadyFuture(Result<qint64>(m_options.startAfter.value_or(0)));
    return m_store.loadCursor(m_options.name);
}

QFuture<Result<bool>> Subscriber::deliver(const QList<StoredEvent> &batch)
{
    m_woken = false;
    m_caughtUp = false;
    for (const StoredEvent &e : batch) {
        if (!e.isDecoded() && !e.isEngineMessage())  // a recorded engine message is not an AppEvent, by design
            qCWarning(lcStore).noquote() << "event" << e.id << "does not decode:" << e.decodeError;
    }
    Q_EMIT eventsReceived(batch);
    if (!m_options.name.isEmpty()) {
        // The handlers ran; the cursor is saved behind them (never ahead).
        const QString name = m_options.name;
        m_store.saveCursor(name, batch.last().id).then([name](const Result<bool> &saved) {
            if (!saved)
                qCWarning(lcStore).noquote() << "subscriber" << name << "cannot save its cursor:" << saved.error().message;
        });
    }
    return QtFuture::makeReadyFuture(Result<bool>(true));
}

void Subscriber::checkHead()
{
    const qint64 cursor = m_pump.cursor();
    if (!m_pump.isStarted() || m_checkingHead || cursor == 0)
        return;
    m_checkingHead = true;
    // Compared with the cursor as it was when asked: rows read while the head
    // is read are newer than the answer, and prove nothing.
    m_store.headId().then(this, [this, was = cursor](const Result<qint64> &head) {
        m_checkingHead = false;
        if (!head || *head >= was)
            return;
        qCWarning(lcStore).noquote() << "the event log went back in time: newest id" << *head << "but subscriber"
                                     << (m_options.name.isEmpty() ? u"(live)"_s : m_options.name) << "had read up to" << was
                                     << "- the log was reset or replaced; reading it again from its start";
        if (!m_options.name.isEmpty())
            m_store.saveCursor(m_options.name, 0);
        Q_EMIT logWentBack(was, *head);
        m_pump.restartFrom(0);
    });
}

} // namespace eventdesk
