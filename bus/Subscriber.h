// A subscriber of the bus: reads events past its cursor in id order, in
// batches (WHERE id > ? LIMIT n), whenever the notifier says there may be more.
// A named subscriber persists its cursor after each batch it delivered, so after
// a restart it resumes where it stopped: nothing lost, nothing twice.
// Undecodable rows are delivered too (with their error) and never stop it.
// A log that went back in time (a Redis without persistence restarted, a
// database replaced by a shorter one: the head is behind the cursor) is
// reported with logWentBack and read again from its new start, never skipped.
#pragma once

#include "CursorPump.h"
#include "Ports.h"

#include <QObject>
#include <QTimer>

namespace eventdesk {

class Subscriber final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Subscriber)
public:
    struct Options {
        QString name;                     // empty: an ephemeral subscriber, cursor not persisted
        int batchSize = 500;
        std::optional<qint64> startAfter; // overrides the persisted cursor
        int retryMs = 1000;               // after a read error
    };

    Subscriber(EventStore &store, Notifier &notifier, Options options, QObject *parent = nullptr);

    // Loads the cursor (named subscribers) and catches up.
    void start();
    qint64 cursor() const { return m_pump.cursor(); }
    bool isCaughtUp() const { return m_caughtUp; }
    const QString &name() const { return m_options.name; }

Q_SIGNALS:
    // In id order; each row once. Handlers run before the cursor moves on.
    void eventsReceived(const QList<eventdesk::StoredEvent> &events);
    // Read everything there was (for now).
    void caughtUp(qint64 cursor);
    // The log's newest id is behind what this subscriber had read: it was reset
    // or replaced. The subscriber carries on from the new start.
    void logWentBack(qint64 cursor, qint64 head);
    void errorOccurred(const eventdesk::Error &error);

private:
    QFuture<Result<qint64>> loadCursor();
    QFuture<Result<bool>> deliver(const QList<StoredEvent> &batch);
    void checkHead();

    EventStore &m_store;
    Options m_options;
    CursorPump m_pump;
    bool m_caughtUp = false;
    bool m_checkingHead = false;
    bool m_woken = false;  // a wake asked for the read under way
};

} // namespace eventdesk
