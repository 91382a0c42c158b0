// The EventStore port on SQLite (DESIGN §4). Two connections, each on its own
// worker thread: a writer that appends with group commit (queued publishes share
// one BEGIN IMMEDIATE … COMMIT, each still durable before its future resolves)
// and retries a locked database with backoff instead of freezing; and a reader
// for pages, counts and subscriber batches, which also polls PRAGMA data_version
// to notice rows other processes commit.
#pragma once

#include "Ports.h"
#include "RowFormat.h"
#include "SqliteConnection.h"

#include <QHash>
#include <QObject>

#include <atomic>
#include <functional>
#include <memory>

namespace eventdesk {

class SqliteWriter;
class SqliteReader;
class SqliteCheckpointer;
template <typename T> class WorkerThread;

struct AuditEntry {
    qint64 id = 0;
    QDateTime at;
    QString actor;
    QString action;
    QString detail;
};

struct Challenge {
    QString id;
    QString worldId;
    QString name;
    int difficulty = 10;
};

struct BusStatistics {
    struct Count {
        QString key;   // a type, or a world ("" for events without one)
        qint64 count = 0;
    };
    struct ChallengeRate {
        QString worldId;
        QString characterId;
        qint64 attempts = 0;
        qint64 successes = 0;
    };
    qint64 total = 0;
    qint64 headId = 0;
    QDateTime firstAt;
    QDateTime lastAt;
    qint64 lastHour = 0;
    qint64 lastDay = 0;
    QList<Count> perType;
    QList<Count> perWorld;
    QList<ChallengeRate> challenges;
};

class SqliteEventStore final : public QObject, public EventStore
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SqliteEventStore)
public:
    explicit SqliteEventStore(SqliteOptions options, QObject *parent = nullptr);
    ~SqliteEventStore() override;

    // Opens both connections (the writer creates and migrates the schema).
    // Nothing else may be called until this has succeeded.
    QFuture<Result<bool>> open();
    // open() and wait: for the command line and tests.
    Result<bool> openAndWait();

    const SqliteOptions &options() const { return m_options; }

    // EventStore
    QFuture<BatchPublishResult> append(const QList<AppEvent> &events) override;
    QFuture<Result<QList<StoredEvent>>> fetchSince(qint64 afterId, int limit) override;
    QFuture<Result<QList<StoredEvent>>> fetchPage(const EventQuery &query) override;
    QFuture<Result<qint64>> count(const EventQuery &query) override;
    QFuture<Result<QStringList>> distinctWorlds() override;
    QFuture<Result<qint64>> headId() override;
    QFuture<Result<int>> markProcessed(const QList<qint64> &ids, bool processed) override;
    QFuture<Result<qint64>> loadCursor(const QString &name) override;
    QFuture<Result<bool>> saveCursor(const QString &name, qint64 lastId) override;
    QString location() const override { return m_options.path; }

    // Rows exactly as given (for import and for tests that need odd rows):
    // event_type and payload are not checked. Returns the ids.
    // Import: rows with their own created_at, processed and processed_at (empty
    // created_at: now), in one transaction. keepIds: rows keep their ids, and the
    // log must be empty. Subscribers are not notified: the caller does that.
    QFuture<BatchPublishResult> importRows(const QList<rows::ImportedRow> &rows, bool keepIds);
    QFuture<BatchPublishResult> appendRaw(const QList<std::pair<QString, QByteArray>> &rows);

    // Counts per type and world, recent rates, challenge success by world and character.
    QFuture<Result<BusStatistics>> statistics();

    // EventDesk's own tables.
    QFuture<Result<qint64>> audit(const QString &actor, const QString &action, const QString &detail);
    QFuture<Result<QList<AuditEntry>>> auditLog(int limit, qint64 beforeId = 0);
    QFuture<Result<Challenge>> addChallenge(const QString &worldId, const QString &name, int difficulty);
    QFuture<Result<bool>> updateChallenge(const Challenge &challenge);
    QFuture<Result<bool>> removeChallenge(const QString &id);
    QFuture<Result<QList<Challenge>>> challenges(const QString &worldId = {});  // empty: every world
    // Display names of worlds and characters (kind "world" or "character"); an empty name forgets it.
    QFuture<Result<bool>> setDisplayName(const QString &kind, const QString &id, const QString &name);
    QFuture<Result<QHash<QString, QString>>> displayNames();  // id → name
    QFuture<Result<std::optional<Challenge>>> challenge(const QString &id);

    // Runs fn(connection) on the writer thread inside BEGIN IMMEDIATE … COMMIT,
    // queued in order with appends and retried while the database is locked.
    // A returned Error rolls back. For projections and retention in bus/.
    using WriteFn = std::function<std::optional<Error>(SqliteConnection &)>;
    QFuture<Result<bool>> write(WriteFn fn);
    // The same, for a write that produces a value (an id, a count).
    template <typename T>
    QFuture<Result<T>> writeValue(std::function<Result<T>(SqliteConnection &)> fn);
    // Runs fn(connection) on the reader thread.
    template <typename T>
    QFuture<Result<T>> read(std::function<Result<T>(SqliteConnection &)> fn);

Q_SIGNALS:
    // Another process (or connection) committed rows past what this store wrote.
    void externalRowsDetected(qint64 headId);
    // The file at this store's path is no longer the one it opened (replaced by
    // another): what it reads is the old file until it is opened again.
    void fileReplaced();
    // Another process holds the database's write lock and writes are waiting
    // (true), or they went through or gave up (false).
    void writesWaiting(bool waiting);

private:
    friend class SqliteWriter;
    void requestCheckpoint();  // any thread
    QObject *readerContext() const;
    SqliteConnection *readerConnection() const;

    SqliteOptions m_options;
    std::atomic<qint64> m_knownHead{0};  // the last id this store's writer committed
    std::unique_ptr<WorkerThread<SqliteWriter>> m_writer;
    std::unique_ptr<WorkerThread<SqliteReader>> m_reader;
    std::unique_ptr<WorkerThread<SqliteCheckpointer>> m_checkpointer;
};

} // namespace eventdesk

#include "WorkerThread.h"

namespace eventdesk {

template <typename T>
QFuture<Result<T>> SqliteEventStore::writeValue(std::function<Result<T>(SqliteConnection &)> fn)
{
    auto value = std::make_shared<Result<T>>();
    return write([fn = std::move(fn), value](SqliteConnection &conn) -> std::optional<Error> {
               *value = fn(conn);
               return value->ok() ? std::nullopt : std::optional<Error>(value->error());
           })
        .then([value](const Result<bool> &written) -> Result<T> {
            if (!written)
                return written.error();
            return *value;
        });
}

template <typename T>
QFuture<Result<T>> SqliteEventStore::read(std::function<Result<T>(SqliteConnection &)> fn)
{
    SqliteConnection *conn = readerConnection();
    if (!conn)
        return QtFuture::makeReadyFuture(Result<T>(Error{ErrorCode::Unavailable, {}, QStringLiteral("the store is not open")}));
    return runOn<Result<T>>(readerContext(), [conn, fn = std::move(fn)] { return fn(*conn); });
}

} // namespace eventdesk
