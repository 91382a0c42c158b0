// Bridges one store into a Redis stream (`eventdesk forward`): reads the
// source past the cursor kept in Redis, appends each batch with a script that
// skips rows already forwarded and moves the cursor with them, so each source
// row lands exactly once however often the forwarder is killed and restarted.
// Rows go as written (type, payload, created_at), decodable or not.
#pragma once

#include "CursorPump.h"
#include "Ports.h"
#include "RedisEventStore.h"

#include <QObject>
#include <QTimer>

namespace eventdesk {

class Forwarder final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Forwarder)
public:
    struct Options {
        QString sourceName;    // the key of the cursor in Redis (the source database's path)
        int batchSize = 500;
        int retryMs = 1000;    // after a failure; doubles up to 30 s
    };

    Forwarder(EventStore &source, Notifier &sourceNotifier, RedisEventStore &target, Options options,
              QObject *parent = nullptr);

    void start();
    qint64 cursor() const { return m_pump.cursor(); }
    qint64 forwarded() const { return m_forwarded; }

Q_SIGNALS:
    // After the cursor was loaded and after every batch.
    void progressed(qint64 cursor, qint64 forwardedThisRun);
    // Nothing left to forward, for now.
    void caughtUp(qint64 cursor);
    void errorOccurred(const eventdesk::Error &error);

private:
    QFuture<Result<bool>> forward(const QList<StoredEvent> &rows);

    RedisEventStore &m_target;
    Options m_options;
    CursorPump m_pump;
    qint64 m_forwarded = 0;
};

} // namespace eventdesk
