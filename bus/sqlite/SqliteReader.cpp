#include "SqliteReader.h"

#include "BusLog.h"
#include "FileWatch.h"
#include "LogQueries.h"

#include <QFile>

#include <sqlite3.h>

namespace eventdesk {

using logsql::rowFrom;
using logsql::SelectColumns;

SqliteReader::SqliteReader(SqliteEventStore *store, std::atomic<qint64> *knownHead)
    : m_store(store)
    , m_knownHead(knownHead)
{
    connect(&m_poll, &QTimer::timeout, this, &SqliteReader::pollDataVersion);
}

SqliteReader::~SqliteReader()
{
    if (m_since)
        sqlite3_finalize(m_since);
    if (m_maxId)
        sqlite3_finalize(m_maxId);
    if (m_dataVersion)
        sqlite3_finalize(m_dataVersion);
}

Result<bool> SqliteReader::open(const SqliteOptions &options, const QString &deskPath)
{
    SqliteOptions readerOptions = options;
    readerOptions.create = false;  // the writer made it
    auto conn = SqliteConnection::open(readerOptions, QStringLiteral("reader"), false);
    if (!conn)
        return conn.error();
    m_conn = std::move(conn).value();
    sqlite3 *db = m_conn->handle();
    if (!deskPath.isEmpty()) {
        // The row index is read in the same statements as the log.
        sqlite3_stmt *attach = nullptr;
        const QByteArray path = deskPath.toUtf8();
        if (sqlite3_prepare_v2(db, "ATTACH DATABASE ?1 AS desk", -1, &attach, nullptr) == SQLITE_OK) {
            sqlite3_bind_text(attach, 1, path.constData(), int(path.size()), SQLITE_TRANSIENT);
            if (sqlite3_step(attach) != SQLITE_DONE)
                qCWarning(lcStore).noquote() << "cannot read the row index in" << deskPath << ":" << sqlite3_errmsg(db);
        }
        sqlite3_finalize(attach);
    }
    const auto prep = [db](const char *sql, sqlite3_stmt **stmt) {
        return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, nullptr) == SQLITE_OK;
    };
    const QByteArray since = QByteArray(SelectColumns) + " WHERE id > ?1 ORDER BY id LIMIT ?2";
    if (!prep(since.constData(), &m_since) || !prep("PRAGMA data_version", &m_dataVersion)
        || !prep("SELECT max(id) FROM app_events", &m_maxId))
        return m_conn->errorFromCode(sqlite3_errcode(db), QStringLiteral("cannot prepare the reader's statements"));
    m_lastDataVersion = dataVersion();
    m_path = QFile::encodeName(options.path);
    struct stat st {};
    if (::stat(m_path.constData(), &st) == 0)
        m_fileId = {st.st_dev, st.st_ino};
    if (options.dataVersionPollMs > 0) {
        m_poll.start(options.dataVersionPollMs);
        // Woken at once by the file itself: another process's commit writes
        // the database (rollback journal) or its -wal file (WAL). The poll
        // stays for what the kernel does not say (network file systems, a
        // -wal file made later).
        // A change is often seen before its commit is whole (the frames
        // are written first; the kernel says "changed" once for a burst):
        // look now, and again 2, 8 and 20 ms later until the commit shows.
        m_settle.setSingleShot(true);
        m_settle.setTimerType(Qt::PreciseTimer);
        connect(&m_settle, &QTimer::timeout, this, [this] {
            static constexpr int Steps[] = {2, 6, 12};  // ms after the previous look
            const qint64 before = m_lastDataVersion;
            pollDataVersion();
            if (m_lastDataVersion == before && ++m_settleStep < int(std::size(Steps)))
                m_settle.start(Steps[m_settleStep]);
        });
        // Our own writer's commits change the files too: the watch wakes
        // at most once per 2 ms however many there are, and while this
        // process keeps writing, data_version is polled every 2 ms
        // instead of the kernel reporting each write (see FileWatch).
        m_watch = new FileWatch([this] {
            pollDataVersion();  // also watches anew a file deleted and made again
            if (m_knownHead->load() != m_headSeen) {
                startOwnWrites();
                return;
            }
            m_settleStep = 0;
            m_settle.start(2);
        }, 2, this);
        m_ownWrites.setTimerType(Qt::PreciseTimer);
        connect(&m_ownWrites, &QTimer::timeout, this, [this] {
            pollDataVersion();
            const qint64 head = m_knownHead->load();
            if (head != m_headSeen) {
                m_headSeen = head;
                m_quietTicks = 0;
            } else if (++m_quietTicks >= 5) {  // 10 ms without a write of ours
                m_ownWrites.stop();
                m_watch->setWrites(true);
                pollDataVersion();  // what came between the last tick and the watch
            }
        });
        m_headSeen = m_knownHead->load();
        watchFiles();
    }
    return true;
}

Result<QList<StoredEvent>> SqliteReader::fetchSince(qint64 afterId, int limit)
{
    QList<StoredEvent> out;
    sqlite3_bind_int64(m_since, 1, afterId);
    sqlite3_bind_int(m_since, 2, qBound(1, limit, 100000));
    int rc;
    while ((rc = sqlite3_step(m_since)) == SQLITE_ROW)
        out.append(rowFrom(m_since));
    sqlite3_reset(m_since);  // ends the read transaction: never pins the WAL
    if (rc != SQLITE_DONE)
        return m_conn->errorFromCode(rc, QStringLiteral("cannot read events"));
    logsql::placeRecorded(m_conn->handle(), out);
    return out;
}

qint64 SqliteReader::dataVersion()
{
    qint64 v = -1;
    if (sqlite3_step(m_dataVersion) == SQLITE_ROW)
        v = sqlite3_column_int64(m_dataVersion, 0);
    sqlite3_reset(m_dataVersion);
    return v;
}

void SqliteReader::startOwnWrites()
{
    m_headSeen = m_knownHead->load();
    m_quietTicks = 0;
    m_settle.stop();
    m_watch->setWrites(false);
    m_ownWrites.start(2);
}

void SqliteReader::watchFiles()
{
    m_watch->watch(m_path);
    m_watch->watch(m_path + "-wal");
}

void SqliteReader::pollDataVersion()
{
    // Another file now under this name (the engine's database replaced): our
    // connections still read the old one, so this is said once, loudly; the
    // user of the store reopens it to follow the new file.
    if (!m_replaced && m_fileId.second != 0) {
        struct stat st {};
        if (::stat(m_path.constData(), &st) == 0 && (st.st_dev != m_fileId.first || st.st_ino != m_fileId.second)) {
            m_replaced = true;
            qCWarning(lcStore).noquote() << QString::fromLocal8Bit(m_path) << "was replaced on disk by another file";
            Q_EMIT m_store->fileReplaced();
        }
    }
    if (m_watch && m_watch->count() < 2)
        watchFiles();  // the -wal file appears with the first write in WAL mode, or one was made anew
    const qint64 v = dataVersion();
    if (v == m_lastDataVersion)
        return;
    m_lastDataVersion = v;
    qint64 head = 0;
    const int rc = sqlite3_step(m_maxId);
    if (rc == SQLITE_ROW)
        head = sqlite3_column_int64(m_maxId, 0);
    sqlite3_reset(m_maxId);
    if (rc != SQLITE_ROW) {
        m_lastDataVersion = -1;  // locked or failing: look again next tick
        return;
    }
    if (head > m_knownHead->load() && head > m_lastAnnounced) {
        m_lastAnnounced = head;
        qCDebug(lcNotify) << "rows from another connection up to" << head;
        Q_EMIT m_store->externalRowsDetected(head);
    }
}

} // namespace eventdesk
