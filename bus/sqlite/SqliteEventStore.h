// The EventStore port on SQLite (DESIGN §4), over the engine's app_events.
// Two connections to the log, each on its own worker thread: a writer that
// appends with group commit (queued publishes share one BEGIN IMMEDIATE …
// COMMIT, each still durable before its future resolves) and retries a locked
// database with backoff instead of freezing; and a reader for pages, counts and
// subscriber batches, which also polls PRAGMA data_version to notice rows other
// processes commit. Everything else of EventDesk's (the row index, cursors,
// challenges, …) is in its own database beside the log (DeskDatabase): the
// log's file only ever gets the rows EventDesk publishes and processed marks.
#pragma once

#include "DeskDatabase.h"
#include "DeskPorts.h"
#include "Ports.h"
#include "RowFormat.h"
#include "SqliteConnection.h"

#include <QHash>
#include <QObject>

#include <atomic>
#include <functional>
#include <memory>

namespace eventdesk {

class RecentRows;
class SqliteWriter;
class SqliteReader;
class SqliteCheckpointer;
template <typename T> class WorkerThread;

class SqliteEventStore final : public LogWatch, public EventStore, public StatisticsSource
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SqliteEventStore)
public:
    explicit SqliteEventStore(SqliteOptions options, QObject *parent = nullptr);
    ~SqliteEventStore() override;

    // Opens the log (the writer creates a new database where allowed) and then
    // EventDesk's own database beside it. Nothing else may be called until
    // this has succeeded.
    QFuture<Result<bool>> open();
    // open() and wait: for the command line and tests.
    Result<bool> openAndWait();

    const SqliteOptions &options() const { return m_options; }
    // EventDesk's own database (challenges, audit, names, projections, the row
    // index); null when read-only and none exists yet.
    DeskDatabase *desk() const { return m_desk.get(); }
    // Fill the row index in the background and follow new rows (the window, serve).
    void startIndexing();
    void pauseIndexing() override;

    // LogWatch
    bool isReadOnly() const override { return m_options.readOnly; }
    QString deskLocation() const override { return m_desk ? m_desk->path() : QString(); }

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
    QString location() const override { return m_options.path; }

    // Rows exactly as given (for import and for tests that need odd rows):
    // event_type and payload are not checked. Returns the ids.
    // Import: rows with their own created_at, processed and processed_at (empty
    // created_at: now), in one transaction. keepIds: rows keep their ids, and the
    // log must be empty. Subscribers are not notified: the caller does that.
    QFuture<BatchPublishResult> importRows(const QList<rows::ImportedRow> &rows, bool keepIds);
    // A large import, all or nothing in one transaction, fed a row at a time
    // on the writer thread (never all in memory): next() gives a row, nullopt
    // at the end, or an error that rolls everything back.
    struct ImportSummary {
        qint64 count = 0;
        qint64 firstId = 0;
        qint64 lastId = 0;
        QList<std::pair<qint64, QString>> recorded;  // recorded engine messages: id, world
    };
    using RowSource = std::function<Result<std::optional<rows::ImportedRow>>()>;
    QFuture<Result<ImportSummary>> importStream(RowSource next, bool keepIds);
    // Rows of (event_type, payload) as they are stored.
    QFuture<BatchPublishResult> appendRaw(const QList<std::pair<QString, QByteArray>> &rows);
    // Today's engine's messages as received, with the world each came from
    // (kept in EventDesk's own database: the log's table has no place for it).
    QFuture<BatchPublishResult> appendRecorded(const QList<RecordedRow> &rows) override;
    struct WriteRow {
        QByteArray type;       // UTF-8
        QByteArray payload;
        QByteArray createdAt;  // empty: the commit's time
    };
    using WriteRows = QList<WriteRow>;
    QFuture<BatchPublishResult> appendRows(WriteRows rows);

    // StatisticsSource: counted on the log itself.
    QFuture<Result<BusStatistics>> statistics() override;

    // Runs fn(connection) on the writer thread inside BEGIN IMMEDIATE … COMMIT,
    // queued in order with appends and retried while the database is locked.
    // A returned Error rolls back. For retention in bus/ (the log's own rows).
    using WriteFn = std::function<std::optional<Error>(SqliteConnection &)>;
    QFuture<Result<bool>> write(WriteFn fn);
    // The same, for a write that produces a value (an id, a count).
    template <typename T>
    QFuture<Result<T>> writeValue(std::function<Result<T>(SqliteConnection &)> fn);
    // Runs fn(connection) on a reader thread: Pages for what a person waits
    // on (pages, subscriber batches); Scans for what may read the whole log
    // (counts, the world list, statistics), so that a page never queues
    // behind a scan of a big log.
    enum class Lane { Pages, Scans };
    template <typename T>
    QFuture<Result<T>> read(std::function<Result<T>(SqliteConnection &)> fn, Lane lane = Lane::Pages);

Q_SIGNALS:
    // Another process (or connection) committed rows past what this store wrote.
    void externalRowsDetected(qint64 headId);

private:
    friend class SqliteWriter;
    QFuture<BatchPublishResult> enqueueAppend(struct WriteJob job);
    void requestCheckpoint();  // any thread
    QObject *readerContext(Lane lane) const;
    SqliteConnection *readerConnection(Lane lane) const;

    SqliteOptions m_options;
    std::atomic<qint64> m_knownHead{0};  // the last id this store's writer committed
    std::atomic<bool> m_checkpointAsked{false};  // a checkpoint is queued and has not started
    std::unique_ptr<RecentRows> m_recent;  // the live tail this process's writer committed
    std::unique_ptr<WorkerThread<SqliteWriter>> m_writer;
    std::unique_ptr<WorkerThread<SqliteReader>> m_reader;
    std::unique_ptr<WorkerThread<SqliteReader>> m_scanner;
    std::unique_ptr<WorkerThread<SqliteCheckpointer>> m_checkpointer;
    std::unique_ptr<DeskDatabase> m_desk;
};

} // namespace eventdesk

#include "WorkerThread.h"

namespace eventdesk {

template <typename T>
QFuture<Result<T>> SqliteEventStore::writeValue(std::function<Result<T>(SqliteConnection &)> fn)
{
    return valueOfWrite<T>([this](auto write) { return this->write(std::move(write)); }, std::move(fn));
}

template <typename T>
QFuture<Result<T>> SqliteEventStore::read(std::function<Result<T>(SqliteConnection &)> fn, Lane lane)
{
    SqliteConnection *conn = readerConnection(lane);
    if (!conn)
        return QtFuture::makeReadyFuture(Result<T>(Error{ErrorCode::Unavailable, {}, QStringLiteral("the store is not open")}));
    return runOn<Result<T>>(readerContext(lane), [conn, fn = std::move(fn)] { return fn(*conn); });
}

} // namespace eventdesk
