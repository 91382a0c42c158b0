// The Notifier of one process: an in-process Qt signal right after each commit,
// a relay for rows other processes wrote (from the store's data_version poll or
// a Redis read), and the slow full poll as the last fallback (DESIGN §1, §4).
#pragma once

#include "Ports.h"

#include <QTimer>

#include <atomic>

namespace eventdesk {

class BusNotifier final : public Notifier
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BusNotifier)
public:
    explicit BusNotifier(int fallbackPollMs = 30000, QObject *parent = nullptr);

    // Any thread. From another thread, commits until the notifier's thread
    // looks are announced once, with the latest id (a producer thread
    // committing 40,000 events a second does not queue 40,000 calls).
    void notifyAppended(qint64 lastId) override;
    // What that call would announce, now (from a long loop on this thread).
    bool announcePending() override;
    // Rows written elsewhere are readable up to headId.
    void externalRowsDetected(qint64 headId);

private:
    bool announcePosted();

    QTimer m_fallback;
    std::atomic<qint64> m_pendingHead{0};
    std::atomic<bool> m_posted{false};
};

} // namespace eventdesk
