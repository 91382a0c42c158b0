// The one loop of everything that follows the log past a cursor (subscribers,
// projections, the Redis forwarder): load the cursor, read the rows past it
// (fetchSince), hand them to an asynchronous sink, and move past them when the
// sink says they are done. Wakes that arrive while a batch is under way are
// kept and acted on after it; a failure is retried with backoff (optionally
// loading the cursor again first, for sinks that store it with their rows).
#pragma once

#include "Ports.h"

#include <QObject>
#include <QTimer>

#include <functional>

namespace eventdesk {

class CursorPump final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CursorPump)
public:
    struct Options {
        int batchSize = 500;
        int retryMs = 1000;         // after a failure, doubling up to maxRetryMs
        int maxRetryMs = 1000;
        bool reloadAfterFailure = false;  // the sink may have landed though its reply did not
    };
    using LoadCursor = std::function<QFuture<Result<qint64>>()>;
    // Handles one batch (in id order); resolves true when the rows are done.
    using Sink = std::function<QFuture<Result<bool>>(const QList<StoredEvent> &)>;

    CursorPump(EventStore &source, LoadCursor load, Sink sink, Options options, QObject *parent = nullptr);

    void start();             // loads the cursor, then reads
    void wake();              // rows may be there
    void restartFrom(qint64 cursor);  // the log went back: read again from there
    qint64 cursor() const { return m_cursor; }
    bool isStarted() const { return m_started; }
    bool isBusy() const { return m_busy; }

Q_SIGNALS:
    void loaded(qint64 cursor);
    void advanced(qint64 cursor, qsizetype rows);
    // Nothing more to read for now. emptyRead: the last read found nothing at all.
    void caughtUp(qint64 cursor, bool emptyRead);
    void failed(const eventdesk::Error &error);

private:
    void load();
    void read();
    void fail(const Error &error);

    EventStore &m_source;
    LoadCursor m_load;
    Sink m_sink;
    Options m_options;
    qint64 m_cursor = 0;
    bool m_started = false;
    bool m_busy = false;
    bool m_again = false;
    int m_backoffMs = 0;
    QTimer m_retry;
};

} // namespace eventdesk
