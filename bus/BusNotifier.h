// The Notifier of one process: an in-process Qt signal right after each commit,
// a relay for rows other processes wrote (from the store's data_version poll or
// a Redis read), and the slow full poll as the last fallback (DESIGN §1, §4).
#pragma once

#include "Ports.h"

#include <QTimer>

namespace eventdesk {

class BusNotifier final : public Notifier
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BusNotifier)
public:
    explicit BusNotifier(int fallbackPollMs = 30000, QObject *parent = nullptr);

    void notifyAppended(qint64 lastId) override;
    // Rows written elsewhere are readable up to headId.
    void externalRowsDetected(qint64 headId);

private:
    QTimer m_fallback;
};

} // namespace eventdesk
