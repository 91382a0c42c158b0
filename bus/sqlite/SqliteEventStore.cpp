#include "SqliteEventStore.h"

#include "RecentRows.h"

#include "LogQueries.h"
#include "SqliteReader.h"
#include "SqliteWriter.h"

#include "EventCodec.h"
#include "BusLog.h"
#include "StoredPayload.h"
#include "Timestamp.h"

#include <QFile>
#include <QElapsedTimer>
#include <QSet>
#include <QSqlError>
#include <QSqlQuery>
#include <QTimer>
#include <QUuid>

#include <QScopeGuard>

#include <sqlite3.h>

#include <sys/stat.h>

#include <atomic>
#include <array>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

Error notOpen() { return Error{ErrorCode::Unavailable, {}, u"the event store is not open"_s}; }

} // namespace

using namespace logsql;

// --- the store ----------------------------------------------------------------

SqliteEventStore::SqliteEventStore(SqliteOptions options, QObject *parent)
    : LogWatch(parent)
    , m_options(std::move(options))
    , m_recent(std::make_unique<RecentRows>())
{
}

SqliteEventStore::~SqliteEventStore()
{
    // Queued writes finish (or fail) before the threads end.
    if (m_writer)
        m_writer->stop();
    if (m_reader)
        m_reader->stop();
    if (m_scanner)
        m_scanner->stop();
    if (m_checkpointer)
        m_checkpointer->stop();
}

QFuture<Result<bool>> SqliteEventStore::open()
{
    if (m_writer)
        return QtFuture::makeReadyFuture(Result<bool>(Error{ErrorCode::Usage, {}, u"the store is already open"_s}));
    m_writer = std::make_unique<WorkerThread<SqliteWriter>>(u"eventdesk-sql-writer"_s);
    m_reader = std::make_unique<WorkerThread<SqliteReader>>(u"eventdesk-sql-reader"_s);
    m_scanner = std::make_unique<WorkerThread<SqliteReader>>(u"eventdesk-sql-scanner"_s);
    SqliteWriter *writer = m_writer->create(&m_knownHead, this);
    SqliteReader *reader = m_reader->create(this, &m_knownHead);
    SqliteReader *scanner = m_scanner->create(this, &m_knownHead);
    const SqliteOptions options = m_options;
    // The writer creates the log where allowed; then EventDesk's own database
    // (which may copy an older release's tables out of the log); then the reader.
    Result<bool> written = runOn<Result<bool>>(writer, [writer, options] { return writer->open(options); }).result();
    if (!written)
        return QtFuture::makeReadyFuture(written);
    if (writer->ownsFile() && !options.readOnly) {
        m_checkpointer = std::make_unique<WorkerThread<SqliteCheckpointer>>(u"eventdesk-sql-checkpoint"_s);
        m_checkpointer->create(m_options.path);
    }
    const QString deskPath = options.deskWritable ? DeskDatabase::pathFor(options.path)
                                                  : DeskDatabase::existingPathFor(options.path);
    if (!deskPath.isEmpty()) {
        m_desk = std::make_unique<DeskDatabase>(deskPath, options, !options.deskWritable);
        connect(m_desk.get(), &DeskDatabase::indexProgress, this, &LogWatch::indexProgress);
        connect(this, &SqliteEventStore::externalRowsDetected, m_desk.get(), &DeskDatabase::wakeIndex, Qt::DirectConnection);
        if (Result<bool> opened = m_desk->open().result(); !opened) {
            if (options.deskWritable)
                return QtFuture::makeReadyFuture(opened);
            qCWarning(lcStore).noquote() << "EventDesk's own database" << deskPath << "cannot be read:" << opened.error().message;
            m_desk.reset();
        }
    }
    const QString attach = m_desk ? m_desk->path() : QString();
    SqliteOptions scanOptions = options;
    scanOptions.dataVersionPollMs = 0;  // the page reader follows the file
    if (Result<bool> scanning = runOn<Result<bool>>(scanner, [scanner, scanOptions, attach] {
            return scanner->open(scanOptions, attach);
        }).result(); !scanning)
        return QtFuture::makeReadyFuture(scanning);
    return runOn<Result<bool>>(reader, [reader, options, attach] { return reader->open(options, attach); });
}

void SqliteEventStore::startIndexing()
{
    if (m_desk && !m_desk->isReadOnly())
        m_desk->startIndexing();
}

void SqliteEventStore::pauseIndexing()
{
    if (m_desk)
        m_desk->pauseIndexing();
}

Result<bool> SqliteEventStore::openAndWait()
{
    QFuture<Result<bool>> f = open();
    f.waitForFinished();
    return f.result();
}

void SqliteEventStore::requestCheckpoint()
{
    SqliteCheckpointer *c = m_checkpointer ? m_checkpointer->object() : nullptr;
    if (!c || m_checkpointAsked.exchange(true))
        return;  // one is on its way: it will copy this commit's pages too
    QMetaObject::invokeMethod(c, [this, c] {
        m_checkpointAsked.store(false);
        c->checkpoint();
    }, Qt::QueuedConnection);
}

QObject *SqliteEventStore::readerContext(Lane lane) const
{
    const auto &thread = lane == Lane::Pages ? m_reader : m_scanner;
    return thread ? thread->object() : nullptr;
}

SqliteConnection *SqliteEventStore::readerConnection(Lane lane) const
{
    const auto &thread = lane == Lane::Pages ? m_reader : m_scanner;
    return thread && thread->object() ? thread->object()->connection() : nullptr;
}

// The event_type column's text, made once per kind rather than per row.
static const QByteArray &typeName(const AppEvent &e)
{
    static const std::array<QByteArray, EventKindCount> typeNames = [] {
        std::array<QByteArray, EventKindCount> names;
        for (int k = 0; k < EventKindCount; ++k)
            names[size_t(k)] = catalog::name(EventKind(k)).toUtf8();
        return names;
    }();
    return typeNames[size_t(e.kind())];
}

QFuture<BatchPublishResult> SqliteEventStore::append(const QList<AppEvent> &events)
{
    WriteRows rows;
    rows.reserve(events.size());
    for (const AppEvent &e : events) {
        Result<QByteArray> payload = storedPayload(e);
        if (!payload)
            return QtFuture::makeReadyFuture(BatchPublishResult(payload.error()));
        rows.append({typeName(e), std::move(payload).value(), {}});
    }
    return appendRows(std::move(rows));
}

// A producer's publish: settled by the writer (on the producer's thread when
// it commits there) without a continuation and a list of one id.
QFuture<PublishResult> SqliteEventStore::appendOne(const AppEvent &event, Notifier *notifier)
{
    Result<QByteArray> payload = storedPayload(event);
    if (!payload)
        return PendingPublish::answered(notifier, payload.error());
    if (!m_writer || !m_writer->object())
        return PendingPublish::answered(notifier, notOpen());
    WriteJob job;
    job.rows.append({typeName(event), std::move(payload).value(), {}});
    QFuture<PublishResult> future = job.published.emplace(notifier).future();
    m_writer->object()->enqueue(std::move(job));
    return future;
}

QFuture<BatchPublishResult> SqliteEventStore::importRows(const QList<rows::ImportedRow> &rows, bool keepIds)
{
    auto at = std::make_shared<qsizetype>(0);
    RowSource next = [rows, at]() -> Result<std::optional<rows::ImportedRow>> {
        if (*at >= rows.size())
            return std::optional<rows::ImportedRow>();
        return std::optional(rows.at((*at)++));
    };
    return importStream(std::move(next), keepIds).then([rows, keepIds](const Result<ImportSummary> &r) -> BatchPublishResult {
        if (!r)
            return r.error();
        // One transaction with no other writer: new ids run from first to last.
        QList<qint64> ids;
        ids.reserve(r->count);
        for (qint64 i = 0; i < r->count; ++i)
            ids.append(keepIds ? rows.at(i).id : r->firstId + i);
        return ids;
    });
}

QFuture<Result<SqliteEventStore::ImportSummary>> SqliteEventStore::importStream(RowSource next, bool keepIds)
{
    auto summary = std::make_shared<ImportSummary>();
    return write([next = std::move(next), keepIds, summary](SqliteConnection &conn) -> std::optional<Error> {
               sqlite3 *db = conn.handle();
               if (keepIds) {
                   QSqlQuery q(conn.database());
                   if (!conn.prepareAndExec(q, u"SELECT EXISTS(SELECT 1 FROM app_events)"_s))
                       return conn.lastError(q, u"cannot look at the log"_s);
                   const bool any = q.next() && q.value(0).toInt() != 0;
                   q.finish();
                   if (any)
                       return Error{ErrorCode::Usage, {}, u"--keep-ids imports only into an empty log; this one has events"_s};
               }
               // The native statement: a large import is this loop.
               const char *sql = keepIds
                   ? "INSERT INTO app_events(id, event_type, payload, created_at, processed, processed_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
                   : "INSERT INTO app_events(event_type, payload, created_at, processed, processed_at) VALUES(?2, ?3, ?4, ?5, ?6)";
               sqlite3_stmt *ins = nullptr;
               if (sqlite3_prepare_v2(db, sql, -1, &ins, nullptr) != SQLITE_OK)
                   return Error{ErrorCode::Storage, {}, u"cannot import: %1"_s.arg(QString::fromUtf8(sqlite3_errmsg(db)))};
               const auto finalize = qScopeGuard([ins] { sqlite3_finalize(ins); });
               const QByteArray now = timestamp::nowUtf8();
               while (true) {
                   Result<std::optional<rows::ImportedRow>> got = next();
                   if (!got)
                       return got.error();
                   if (!got.value())
                       return std::nullopt;
                   const rows::ImportedRow &row = *got.value();
                   // A recorded engine message goes back as it came; its world after the commit.
                   Result<QByteArray> payload = row.recorded ? Result<QByteArray>(row.recorded->payload) : storedPayload(row.event);
                   if (!payload)
                       return payload.error();
                   const QByteArray type = (row.recorded ? row.recorded->eventType : row.event.typeName()).toUtf8();
                   const QByteArray createdAt = row.createdAt.isEmpty() ? now : row.createdAt.toUtf8();
                   const QByteArray processedAt = row.processedAt.toUtf8();
                   if (keepIds)
                       sqlite3_bind_int64(ins, 1, row.id);
                   sqlite3_bind_text(ins, 2, type.constData(), int(type.size()), SQLITE_STATIC);
                   sqlite3_bind_text(ins, 3, payload->constData(), int(payload->size()), SQLITE_STATIC);
                   sqlite3_bind_text(ins, 4, createdAt.constData(), int(createdAt.size()), SQLITE_STATIC);
                   sqlite3_bind_int(ins, 5, row.processed ? 1 : 0);
                   if (row.processedAt.isEmpty())
                       sqlite3_bind_null(ins, 6);
                   else
                       sqlite3_bind_text(ins, 6, processedAt.constData(), int(processedAt.size()), SQLITE_STATIC);
                   const int rc = sqlite3_step(ins);
                   sqlite3_reset(ins);
                   if (rc != SQLITE_DONE) {
                       const QString why = QString::fromUtf8(sqlite3_errmsg(db));
                       return Error{ErrorCode::Storage, {},
                                    keepIds ? u"cannot import the row with id %1: %2"_s.arg(row.id).arg(why) : u"cannot import: %1"_s.arg(why)};
                   }
                   const qint64 id = sqlite3_last_insert_rowid(db);
                   if (summary->count++ == 0)
                       summary->firstId = id;
                   summary->lastId = id;
                   if (row.recorded)
                       summary->recorded.append({id, row.recorded->worldId});
               }
           })
        .then([summary, desk = m_desk.get()](const Result<bool> &r) -> QFuture<Result<ImportSummary>> {
            if (!r)
                return QtFuture::makeReadyFuture(Result<ImportSummary>(r.error()));
            if (summary->recorded.isEmpty() || !desk)
                return QtFuture::makeReadyFuture(Result<ImportSummary>(*summary));
            return desk->recordWorlds(summary->recorded).then([summary](const Result<bool> &placed) -> Result<ImportSummary> {
                if (!placed)
                    return Error{placed.error().code, {}, u"imported, but the recorded messages' worlds were not kept: %1"_s
                                                              .arg(placed.error().message)};
                return *summary;
            });
        })
        .unwrap();
}

QFuture<BatchPublishResult> SqliteEventStore::appendRaw(const QList<std::pair<QString, QByteArray>> &rows)
{
    WriteRows utf8;
    utf8.reserve(rows.size());
    for (const auto &[type, payload] : rows)
        utf8.append({type.toUtf8(), payload, {}});
    return appendRows(std::move(utf8));
}

QFuture<BatchPublishResult> SqliteEventStore::appendRecorded(const QList<RecordedRow> &rows)
{
    if (!m_desk || m_desk->isReadOnly())
        return QtFuture::makeReadyFuture(BatchPublishResult(
            Error{ErrorCode::Usage, {}, u"recording needs EventDesk's own database beside %1, and it cannot be written"_s.arg(location())}));
    if (!m_writer || !m_writer->object())
        return QtFuture::makeReadyFuture(BatchPublishResult(notOpen()));
    if (rows.isEmpty())
        return QtFuture::makeReadyFuture(BatchPublishResult(QList<qint64>{}));
    WriteJob job;
    QStringList worlds;
    worlds.reserve(rows.size());
    for (const RecordedRow &r : rows) {
        job.rows.append({r.eventType.toUtf8(), r.payload, r.receivedAt.toUtf8()});
        worlds.append(r.worldId);
    }
    // Their worlds go into the desk (which also keeps the row index) inside
    // the rows' transaction, before COMMIT: no reader, in this process or
    // another, ever sees a recorded message without its world. (Should the
    // COMMIT fail, the next rows to take those ids overwrite the mapping.)
    DeskDatabase *desk = m_desk.get();
    job.beforeCommit = [desk, worlds](const QList<qint64> &ids) -> std::optional<Error> {
        QList<std::pair<qint64, QString>> placed;
        placed.reserve(ids.size());
        for (qsizetype i = 0; i < ids.size() && i < worlds.size(); ++i)
            placed.append({ids.at(i), worlds.at(i)});
        QFuture<Result<bool>> done = desk->recordWorlds(placed);
        done.waitForFinished();  // the desk's thread never waits on this one
        if (!done.result())
            return Error{done.result().error().code, {}, u"cannot keep the recorded messages' world: %1"_s.arg(done.result().error().message)};
        return std::nullopt;
    };
    return enqueueAppend(std::move(job));
}

QFuture<BatchPublishResult> SqliteEventStore::appendRows(WriteRows rows)
{
    if (!m_writer || !m_writer->object())
        return QtFuture::makeReadyFuture(BatchPublishResult(notOpen()));
    if (rows.isEmpty())
        return QtFuture::makeReadyFuture(BatchPublishResult(QList<qint64>{}));
    WriteJob job;
    job.rows = std::move(rows);
    return enqueueAppend(std::move(job));
}

// An append job to the writer, answered with its ids once committed.
QFuture<BatchPublishResult> SqliteEventStore::enqueueAppend(WriteJob job)
{
    job.appendPromise = std::make_shared<QPromise<BatchPublishResult>>();
    job.appendPromise->start();
    QFuture<BatchPublishResult> future = job.appendPromise->future();
    m_writer->object()->enqueue(std::move(job));
    return future;
}

QFuture<Result<bool>> SqliteEventStore::write(WriteFn fn)
{
    if (!m_writer || !m_writer->object())
        return QtFuture::makeReadyFuture(Result<bool>(notOpen()));
    WriteJob job;
    job.fn = std::move(fn);
    job.writePromise = std::make_shared<QPromise<Result<bool>>>();
    job.writePromise->start();
    QFuture<Result<bool>> future = job.writePromise->future();
    m_writer->object()->enqueue(std::move(job));
    return future;
}

QFuture<Result<QList<StoredEvent>>> SqliteEventStore::fetchSince(qint64 afterId, int limit)
{
    if (!readerConnection(Lane::Pages))
        return QtFuture::makeReadyFuture(Result<QList<StoredEvent>>(notOpen()));
    SqliteWriter *writer = m_writer ? m_writer->object() : nullptr;
    const auto othersVersion = [writer] { return writer ? writer->othersVersion() : std::nullopt; };
    if (std::optional<QList<StoredEvent>> fresh = m_recent->since(afterId, qBound(1, limit, 100000), othersVersion))
        return QtFuture::makeReadyFuture(Result<QList<StoredEvent>>(std::move(*fresh)));
    SqliteReader *reader = m_reader->object();
    return runOn<Result<QList<StoredEvent>>>(reader, [reader, afterId, limit] { return reader->fetchSince(afterId, limit); });
}

QFuture<Result<QList<StoredEvent>>> SqliteEventStore::fetchPage(const EventQuery &query)
{
    return read<QList<StoredEvent>>([query](SqliteConnection &conn) -> Result<QList<StoredEvent>> {
        const qint64 upTo = indexedTo(conn);
        EventQuery bounded = query;
        if (query.offset > 0) {
            // By position: find the first row to return, then read by keyset from it.
            const Result<qint64> anchor = anchorAt(conn, query, upTo);
            if (!anchor)
                return anchor.error();
            if (anchor.value() == 0)
                return QList<StoredEvent>{};
            if (query.newestFirst)
                bounded.beforeId = anchor.value() + 1;
            else
                bounded.afterId = anchor.value() - 1;
            bounded.offset = 0;
        }
        const SplitQuery parts = split(bounded, upTo);
        const int limit = qBound(1, query.limit, 100000);
        const QString order = query.newestFirst ? u" DESC"_s : u""_s;
        QList<StoredEvent> out;
        const auto readPart = [&](bool indexed) -> std::optional<Error> {
            QVariantList values;
            QString sql;
            if (indexed) {
                sql = indexedPageSql(parts.indexed, values, query.newestFirst, limit - out.size());
            } else {
                auto [where, tailValues] = whereFor(parts.tail);
                values = tailValues;
                sql = QLatin1StringView(SelectColumns) + where + u" ORDER BY id"_s + order + u" LIMIT ?"_s;
                values.append(limit - out.size());
            }
            QSqlQuery q(conn.database());
            q.setForwardOnly(true);
            if (!conn.prepareAndExec(q, sql, values))
                return conn.lastError(q, u"cannot read events"_s);
            while (q.next())
                out.append(rowFrom(q));
            q.finish();
            return std::nullopt;
        };
        // Newest first: the rows past the index are the newest.
        for (const bool indexed : query.newestFirst ? std::array{false, true} : std::array{true, false}) {
            if ((indexed && !parts.useIndex) || out.size() >= limit)
                continue;
            if (auto e = readPart(indexed))
                return *e;
        }
        logsql::placeRecorded(conn.handle(), out);
        return out;
    });
}

QFuture<Result<qint64>> SqliteEventStore::count(const EventQuery &query)
{
    return read<qint64>([query](SqliteConnection &conn) -> Result<qint64> {
        const SplitQuery parts = split(query, indexedTo(conn));
        qint64 n = 0;
        QSqlQuery q(conn.database());
        if (parts.useIndex) {
            QVariantList values;
            const QString sql = indexedSql(parts.indexed, values, Select::Count);
            if (!conn.prepareAndExec(q, sql, values))
                return conn.lastError(q, u"cannot count events"_s);
            n += q.next() ? q.value(0).toLongLong() : 0;
            q.finish();
        }
        const auto [where, values] = whereFor(parts.tail);
        if (!conn.prepareAndExec(q, u"SELECT count(*) FROM app_events"_s + where, values))
            return conn.lastError(q, u"cannot count events"_s);
        n += q.next() ? q.value(0).toLongLong() : 0;
        q.finish();
        return n;
    }, Lane::Scans);
}

QFuture<Result<QStringList>> SqliteEventStore::distinctWorlds()
{
    return read<QStringList>([](SqliteConnection &conn) -> Result<QStringList> {
        // The worlds of the row index, and of the newest rows not indexed yet
        // (at most the newest 20,000: without an index the list fills in as
        // the index is built, instead of scanning the whole log).
        const qint64 upTo = indexedTo(conn);
        QSet<QString> worlds;
        QSqlQuery q(conn.database());
        q.setForwardOnly(true);
        if (upTo > 0) {
            if (!conn.prepareAndExec(q, u"SELECT value FROM desk.eventdesk_keys WHERE kind = 0 AND value <> ''"_s))
                return conn.lastError(q, u"cannot list worlds"_s);
            while (q.next())
                worlds.insert(q.value(0).toString());
        }
        if (!conn.prepareAndExec(q, u"SELECT DISTINCT w FROM (SELECT %1 AS w FROM app_events WHERE id > ? "
                                    "ORDER BY id DESC LIMIT 20000) WHERE w IS NOT NULL"_s.arg(QLatin1StringView(WorldSql)),
                                 {upTo}))
            return conn.lastError(q, u"cannot list worlds"_s);
        while (q.next())
            worlds.insert(q.value(0).toString());
        q.finish();
        QStringList out(worlds.begin(), worlds.end());
        out.removeAll(QString());
        out.sort();
        return out;
    }, Lane::Scans);
}

QFuture<Result<qint64>> SqliteEventStore::headId()
{
    return read<qint64>([](SqliteConnection &conn) -> Result<qint64> {
        QSqlQuery q(conn.database());
        // The newest id ever handed out: after a prune of every row the log has
        // not gone back in time, and AUTOINCREMENT remembers where it was.
        if (!conn.prepareAndExec(q, u"SELECT max(coalesce((SELECT max(id) FROM app_events), 0), "
                                    "coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'app_events'), 0))"_s))
            return conn.lastError(q, u"cannot read the last id"_s);
        const qint64 head = q.next() ? q.value(0).toLongLong() : 0;
        q.finish();
        return head;
    });
}

QFuture<Result<int>> SqliteEventStore::markProcessed(const QList<qint64> &ids, bool processed)
{
    return writeValue<int>([ids, processed](SqliteConnection &conn) -> Result<int> {
        QSqlQuery q(conn.database());
        if (!q.prepare(u"UPDATE app_events SET processed = ?, processed_at = ? WHERE id = ? AND processed != ?"_s))
            return conn.lastError(q, u"cannot mark events"_s);
        const QVariant at = processed ? QVariant(timestamp::now()) : QVariant(QMetaType(QMetaType::QString));
        int changed = 0;
        for (qint64 id : ids) {
            q.addBindValue(processed ? 1 : 0);
            q.addBindValue(at);
            q.addBindValue(id);
            q.addBindValue(processed ? 1 : 0);
            if (!q.exec())
                return conn.lastError(q, u"cannot mark events"_s);
            changed += q.numRowsAffected();
        }
        q.finish();
        return changed;
    }).then([desk = m_desk.get(), ids, processed](const Result<int> &r) {
        if (r && desk)
            desk->setIndexedProcessed(ids, processed);
        return r;
    });
}

QFuture<Result<qint64>> SqliteEventStore::loadCursor(const QString &name)
{
    if (!m_desk)
        return QtFuture::makeReadyFuture(Result<qint64>(qint64(0)));  // read-only, nothing kept: from the start
    return m_desk->loadCursor(name);
}

QFuture<Result<bool>> SqliteEventStore::saveCursor(const QString &name, qint64 lastId)
{
    if (!m_desk || m_desk->isReadOnly())
        return QtFuture::makeReadyFuture(Result<bool>(Error{ErrorCode::Usage, {}, u"%1 is open read-only: cursors are not kept"_s.arg(m_options.path)}));
    return m_desk->saveCursor(name, lastId);
}

QFuture<Result<BusStatistics>> SqliteEventStore::statistics()
{
    return read<BusStatistics>([](SqliteConnection &conn) -> Result<BusStatistics> {
        BusStatistics st;
        QSqlQuery q(conn.database());
        q.setForwardOnly(true);
        const auto fail = [&] { return conn.lastError(q, u"cannot compute statistics"_s); };
        // Instants, not text: "+00:00" and any precision compare as what they mean.
        if (!conn.prepareAndExec(q, u"SELECT count(*), max(id), min(eventdesk_instant(created_at)), "
                                    "max(eventdesk_instant(created_at)) FROM app_events"_s))
            return fail();
        if (q.next()) {
            st.total = q.value(0).toLongLong();
            st.headId = q.value(1).toLongLong();
            if (!q.value(2).isNull())
                st.firstAt = timestamp::fromNanos(q.value(2).toLongLong());
            if (!q.value(3).isNull())
                st.lastAt = timestamp::fromNanos(q.value(3).toLongLong());
        }
        const QDateTime now = QDateTime::currentDateTimeUtc();
        QVariantList values{timestamp::nanos(now.addSecs(-3600)), timestamp::nanos(now.addDays(-1))};
        const QString lastDay = createdAtLeastSql(timestamp::nanos(now.addDays(-1)), values);
        if (!conn.prepareAndExec(q, u"SELECT sum(eventdesk_instant(created_at) >= ?), sum(eventdesk_instant(created_at) >= ?) "
                                    "FROM app_events WHERE "_s + lastDay,
                                 values))
            return fail();
        if (q.next()) {
            st.lastHour = q.value(0).toLongLong();
            st.lastDay = q.value(1).toLongLong();
        }
        if (!conn.prepareAndExec(q, u"SELECT event_type, count(*) FROM app_events GROUP BY event_type ORDER BY 2 DESC"_s))
            return fail();
        while (q.next())
            st.perType.append({q.value(0).toString(), q.value(1).toLongLong()});
        if (!conn.prepareAndExec(q, u"SELECT coalesce(%1, ''), count(*) FROM app_events GROUP BY 1 ORDER BY 2 DESC"_s.arg(
                                        QLatin1StringView(WorldSql))))
            return fail();
        while (q.next())
            st.perWorld.append({q.value(0).toString(), q.value(1).toLongLong()});
        if (!conn.prepareAndExec(q, u"SELECT json_extract(payload,'$.world_id'), json_extract(payload,'$.character_id'), "
                                    "count(*), sum(json_extract(payload,'$.success') = 1) FROM app_events "
                                    "WHERE event_type = 'ChallengeResolved' AND json_valid(payload) GROUP BY 1, 2 ORDER BY 1, 2"_s))
            return fail();
        while (q.next())
            st.challenges.append({q.value(0).toString(), q.value(1).toString(), q.value(2).toLongLong(), q.value(3).toLongLong()});
        q.finish();
        return st;
    }, Lane::Scans);
}

} // namespace eventdesk
