// The EventStore port on Redis Streams (DESIGN §4), for a bus shared by more
// than one machine. Each event is one entry of a stream whose entry id is
// "<id>-0": the integer id is assigned atomically, so ids, cursors, resume
// and the session protocol work exactly as on SQLite: by a MULTI/EXEC
// transaction built on the head the connection read and WATCHes (Redis runs
// none of it if anything touched the stream or the counter since), or by a
// Lua script when it cannot be (the first append on a connection, another
// writer between, forwarded rows).
//
// Keys (all derived from the stream name S):
//   S              the stream: fields type, payload, created_at (and
//                  recorded_world, for a message of today's engine that
//                  eventdesk record kept)
//   S:seq          the last id handed out (the script moves it past the
//                  stream's last entry when it is behind; a transaction
//                  goes on from the higher of the two)
//   S:worlds       every world seen (a set)
//   S:processed    id → processed_at, for the rows marked processed
//   S:forward      source → last source row forwarded (eventdesk forward)
// A named subscriber's cursor is the last-delivered id of a consumer group of
// that name, so `XINFO GROUPS S` shows each subscriber's lag.
//
// Redis traffic runs on a worker thread through hiredis's async API and its
// Qt adapter: one connection for commands (pipelined) and one that waits in
// XREAD BLOCK to notice entries other processes add. A producer thread's small
// append, with nothing else queued, goes on a blocking connection of its own
// instead (RedisDirect.h): no hop to the worker and back.
#pragma once

#include "Ports.h"
#include "RowFormat.h"
#include "RedisUrl.h"

#include <QObject>
#include <QSet>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

namespace eventdesk {

class RedisDirect;
class RedisWorker;
struct RedisHead;
template <typename T> class WorkerThread;

// A row as it goes into the stream, for import and forwarding.
struct RedisRow {
    QString eventType;
    QByteArray payload;
    QString createdAt;   // empty: now
    QString worldId;     // for the set of worlds
    qint64 sourceId = 0; // forward: the row's id in the source
    // A recorded message of today's engine (eventdesk record): the entry
    // keeps worldId in a field of its own (redisstream::RecordedWorldField).
    bool recorded = false;
};

class RedisEventStore final : public QObject, public EventStore
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RedisEventStore)
public:
    explicit RedisEventStore(RedisEndpoint endpoint, QObject *parent = nullptr);
    ~RedisEventStore() override;

    // Connects, authenticates and selects the database. Fails (clearly) when
    // Redis is absent, refuses the password or the database; after that the
    // connection is kept up on its own, with backoff.
    QFuture<Result<bool>> open();
    Result<bool> openAndWait();

    const RedisEndpoint &endpoint() const { return m_endpoint; }

    // EventStore
    QFuture<BatchPublishResult> append(const QList<AppEvent> &events) override;
    QFuture<PublishResult> appendOne(const AppEvent &event, Notifier *notifier) override;
    QFuture<Result<QList<StoredEvent>>> fetchSince(qint64 afterId, int limit) override;
    QFuture<Result<QList<StoredEvent>>> fetchPage(const EventQuery &query) override;
    QFuture<Result<qint64>> count(const EventQuery &query) override;
    QFuture<Result<QStringList>> distinctWorlds() override;
    QFuture<Result<qint64>> headId() override;
    QFuture<Result<int>> markProcessed(const QList<qint64> &ids, bool processed) override;
    QFuture<Result<qint64>> loadCursor(const QString &name) override;
    QFuture<Result<bool>> saveCursor(const QString &name, qint64 lastId) override;
    QString location() const override { return m_endpoint.display(); }

    QFuture<BatchPublishResult> appendRecorded(const QList<RecordedRow> &rows) override;

    // Rows as given (import). All or nothing; returns the new ids.
    QFuture<BatchPublishResult> appendRows(const QList<RedisRow> &rows);
    // An import's rows, AppEvents and recorded messages alike, in one group.
    QFuture<BatchPublishResult> appendImported(const QList<rows::ImportedRow> &rows);
    // Forwarding from another store: rows whose sourceId is not past the
    // source's cursor are skipped, and the cursor moves in the same script as
    // the entries are added, so each source row lands exactly once.
    QFuture<BatchPublishResult> appendForwarded(const QString &source, const QList<RedisRow> &rows);
    QFuture<Result<qint64>> forwardCursor(const QString &source);
    // Retention: deletes every entry with an id ≤ lastId; returns how many.
    QFuture<Result<qint64>> trimUpTo(qint64 lastId);

Q_SIGNALS:
    // Entries past what this store appended showed up (another process or machine).
    void externalRowsDetected(qint64 headId);
    // The connection to Redis went away or came back (after open()).
    void connectionChanged(bool up, const QString &reason);

private:
    template <typename T>
    using Done = std::function<void(Result<T>)>;
    template <typename T, typename F>
    QFuture<Result<T>> onWorker(F &&fn);

    // The head the direct connection read after its last append, and
    // WATCHes since: its next append goes on from it as a transaction.
    struct DirectHead {
        quint64 connection = 0;    // RedisDirect's connection number
        qint64 head = -1;          // -1: not known
        bool wholeStream = false;  // the stream's last id read too: serves a group, not only a single row
    };
    std::optional<BatchPublishResult> appendDirect(const QList<RedisRow> &rows);
    void directHeadRead(DirectHead read);
    void appendedDirect(const QList<qint64> &ids, const QByteArrayList &worlds);

    RedisEndpoint m_endpoint;
    std::shared_ptr<RedisHead> m_head;  // what its own appends tell the watch
    std::unique_ptr<WorkerThread<RedisWorker>> m_worker;
    std::mutex m_directLock;  // the m_direct* below
    std::unique_ptr<RedisDirect> m_direct;  // a producer thread's connection, made on first use
    int m_directDownAt = -1;  // the worker's connection generation in which the direct one failed to connect
    QSet<QByteArray> m_directWorlds;  // worlds the direct connection added to the set, in generation m_directWorldsAt
    int m_directWorldsAt = -1;
    DirectHead m_directHead;
    QByteArray m_execAndRead;  // a direct transaction's EXEC and the read after it, in Redis's protocol
};

} // namespace eventdesk
