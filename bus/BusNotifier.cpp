#include "BusNotifier.h"

#include <QThread>

namespace eventdesk {

BusNotifier::BusNotifier(int fallbackPollMs, QObject *parent)
    : Notifier(parent)
{
    if (fallbackPollMs > 0) {
        connect(&m_fallback, &QTimer::timeout, this, [this] { Q_EMIT eventsAvailable(0); });
        m_fallback.start(fallbackPollMs);
    }
}

void BusNotifier::notifyAppended(qint64 lastId)
{
    if (QThread::currentThread() == thread()) {
        Q_EMIT eventsAvailable(lastId);  // receivers in other threads get it queued
        return;
    }
    // The latest id, not the highest: a log that went back (a Redis reset)
    // must be seen to go back.
    m_pendingHead.store(lastId);
    if (m_posted.exchange(true))
        return;  // a call is on its way and will carry this id
    QMetaObject::invokeMethod(this, [this] { announcePosted(); }, Qt::QueuedConnection);
}

bool BusNotifier::announcePending()
{
    return m_posted.load(std::memory_order_relaxed) && QThread::currentThread() == thread() && announcePosted();
}

// The posted call's announcement, made by whichever comes first: the call
// itself or announcePending(). The other finds nothing left to announce.
bool BusNotifier::announcePosted()
{
    if (!m_posted.exchange(false))
        return false;
    Q_EMIT eventsAvailable(m_pendingHead.load());
    return true;
}

void BusNotifier::externalRowsDetected(qint64 headId)
{
    Q_EMIT eventsAvailable(headId);
}

} // namespace eventdesk
