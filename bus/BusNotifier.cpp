#include "BusNotifier.h"

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
    // Any thread: receivers in other threads get it queued.
    Q_EMIT eventsAvailable(lastId);
}

void BusNotifier::externalRowsDetected(qint64 headId)
{
    Q_EMIT eventsAvailable(headId);
}

} // namespace eventdesk
