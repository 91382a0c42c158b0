#include "DeskDatabase.h"

#include "DeskSchema.h"
#include "DeskWorker.h"
#include "BusLog.h"
#include "Timestamp.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QStandardPaths>
#include <QThread>
#include <QUuid>

#include <sqlite3.h>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

Error storageError(const QString &message) { return Error{ErrorCode::Storage, {}, message}; }

// The schema version a desk file says it has, read without writing anything
// (no WAL switch, no lock held): 0 for a new or empty file, -1 when it cannot be read.
int storedSchemaVersion(const QString &path)
{
    if (!QFileInfo::exists(path))
        return 0;
    sqlite3 *db = nullptr;
    int version = -1;
    if (sqlite3_open_v2(QFile::encodeName(path).constData(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 2000);
        sqlite3_stmt *q = nullptr;
        if (sqlite3_prepare_v2(db, "SELECT value FROM eventdesk_meta WHERE key = 'schema_version'", -1, &q, nullptr) == SQLITE_OK) {
            version = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : 0;
        } else if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &q, nullptr) == SQLITE_OK
                   && sqlite3_step(q) == SQLITE_ROW) {
            version = 0;  // readable, with no version yet
        }
        sqlite3_finalize(q);
    }
    sqlite3_close(db);
    return version;
}

// The tables an older EventDesk kept in the engine's file, moved out on first open.
const QStringList OldTables = {u"eventdesk_cursors"_s,       u"eventdesk_audit"_s, u"eventdesk_challenges"_s,
                               u"eventdesk_stats_minute"_s,  u"eventdesk_challenge_stats"_s,
                               u"eventdesk_jobs"_s,          u"eventdesk_timeline"_s, u"eventdesk_archives"_s,
                               u"eventdesk_names"_s};

QString besidePath(const QString &enginePath) { return QFileInfo(enginePath).absoluteFilePath() + u".eventdesk"_s; }

QString dataFolderPath(const QString &enginePath)
{
    const QFileInfo info(enginePath);
    const QString canonical = info.exists() ? info.canonicalFilePath() : info.absoluteFilePath();
    const QByteArray hash = QCryptographicHash::hash(canonical.toUtf8(), QCryptographicHash::Sha1).toHex().left(16);
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation))
        .filePath(u"desks/%1-%2.eventdesk"_s.arg(info.fileName(), QString::fromLatin1(hash)));
}


} // namespace

// The newest numbered step's (a new step raises it by itself).
const int DeskDatabase::SchemaVersion = deskschema::migrations().constLast().version;


Result<QString> DeskDatabase::moveAside(const QString &deskPath)
{
    const QString aside = deskPath + u".damaged-"_s + QDateTime::currentDateTime().toString(u"yyyyMMdd-HHmmss"_s);
    if (QFileInfo::exists(aside))
        return storageError(u"cannot move %1 aside: %2 exists"_s.arg(deskPath, aside));
    // Its journal files go with it, under the same new name.
    for (const QString &suffix : {u"-wal"_s, u"-shm"_s}) {
        if (QFileInfo::exists(deskPath + suffix) && !QFile::rename(deskPath + suffix, aside + suffix))
            return storageError(u"cannot move %1 aside"_s.arg(deskPath + suffix));
    }
    if (!QFile::rename(deskPath, aside))
        return storageError(u"cannot move %1 aside to %2"_s.arg(deskPath, aside));
    return aside;
}

QString DeskDatabase::pathFor(const QString &enginePath)
{
    const QString beside = besidePath(enginePath);
    if (QFileInfo::exists(beside) || isWritableDatabase(beside))
        return beside;
    return dataFolderPath(enginePath);
}

QString DeskDatabase::existingPathFor(const QString &enginePath)
{
    for (const QString &p : {besidePath(enginePath), dataFolderPath(enginePath)})
        if (QFileInfo(p).isFile())
            return p;
    return {};
}

// --- the worker ---------------------------------------------------------------

DeskWorker::DeskWorker(DeskDatabase *desk)
    : m_desk(desk)
{
    m_retry.setSingleShot(true);
    connect(&m_retry, &QTimer::timeout, this, &DeskWorker::step);
}

QObject *deskContext(DeskWorker *worker) { return worker; }
SqliteConnection *deskConnection(DeskWorker *worker) { return worker ? worker->connection() : nullptr; }

Result<bool> DeskWorker::open()
{
    // A file a newer EventDesk wrote is shown, never rewritten: not upgraded,
    // not switched to WAL, not written at all.
    if (!m_desk->m_readOnly) {
        if (const int stored = storedSchemaVersion(m_desk->m_path); stored > DeskDatabase::SchemaVersion) {
            m_desk->m_readOnlyReason =
                u"%1 was written by a newer EventDesk (schema %2; this one knows up to %3): it is shown read-only and "
                "left as it is. Use that EventDesk to change challenges, names, notes or webhooks"_s.arg(m_desk->m_path)
                    .arg(stored)
                    .arg(DeskDatabase::SchemaVersion);
            m_desk->m_readOnly = true;
            qCWarning(lcStore).noquote() << m_desk->m_readOnlyReason;
        }
    }
    auto conn = SqliteConnection::openDesk(m_desk->m_path, m_desk->m_readOnly, u"desk"_s);
    if (!conn)
        return conn.error();
    m_conn = std::move(conn).value();
    if (!m_desk->m_readOnly) {
        if (auto e = createSchema())
            return *e;
        if (auto e = moveOldTables())
            return *e;
    }
    loadIndexState();
    return true;
}

std::optional<Error> DeskWorker::transaction(const DeskDatabase::WriteFn &fn)
{
    if (!m_conn)
        return Error{ErrorCode::Unavailable, {}, u"EventDesk's own database is not open"_s};
    if (m_desk->m_readOnly)
        return Error{ErrorCode::Usage, {},
                     m_desk->m_readOnlyReason.isEmpty() ? u"EventDesk's own database is open read-only"_s : m_desk->m_readOnlyReason};
    QString why;
    int rc = SQLITE_BUSY;
    // Only another EventDesk on the same log shares this file, briefly.
    for (int attempt = 0; attempt < 250 && (rc == SQLITE_BUSY || rc == SQLITE_LOCKED); ++attempt) {
        rc = m_conn->execRaw("BEGIN IMMEDIATE", &why);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
            QThread::msleep(20);
    }
    if (rc != SQLITE_OK)
        return m_conn->errorFromCode(rc, u"cannot write to %1"_s.arg(m_desk->m_path));
    std::optional<Error> err = fn(*m_conn);
    if (!err) {
        if (const int commit = m_conn->execRaw("COMMIT", &why); commit != SQLITE_OK)
            err = m_conn->errorFromCode(commit, u"cannot commit to %1"_s.arg(m_desk->m_path));
    }
    if (err)
        m_conn->execRaw("ROLLBACK");
    return err;
}

std::optional<Error> DeskWorker::createSchema()
{
    int current = 0;
    bool made = false;  // a new file: nothing in it to keep a copy of
    if (auto e = transaction([&current, &made](SqliteConnection &conn) -> std::optional<Error> {
            if (auto e = conn.exec(u"CREATE TABLE IF NOT EXISTS eventdesk_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"_s))
                return e;
            QSqlQuery q(conn.database());
            if (!conn.prepareAndExec(q, u"SELECT value FROM eventdesk_meta WHERE key = 'schema_version'"_s))
                return conn.lastError(q, u"cannot read the schema version"_s);
            current = q.next() ? q.value(0).toInt() : 0;
            q.finish();
            if (current > DeskDatabase::SchemaVersion)  // a newer EventDesk wrote it since open() looked
                return Error{ErrorCode::Storage, u"desk"_s,
                             u"%1 was written by a newer EventDesk (schema %2, this one knows %3): use that EventDesk, "
                             "or move the file aside to start a fresh one"_s.arg(conn.options().path).arg(current)
                                 .arg(DeskDatabase::SchemaVersion)};
            if (current >= deskschema::BaseVersion)
                return std::nullopt;
            // New, or from before schema 3 (tables were only ever added then).
            made = current == 0;
            for (const QString &sql : deskschema::baseTables())
                if (auto e = conn.exec(sql))
                    return e;
            current = deskschema::BaseVersion;
            return conn.exec(u"INSERT OR REPLACE INTO eventdesk_meta(key, value) VALUES('schema_version', ?)"_s,
                             {QString::number(current)});
        }))
        return e;
    if (current >= DeskDatabase::SchemaVersion)
        return std::nullopt;
    if (made) {  // a new file goes through every step, with nothing to lose
        for (const deskschema::Migration &step : deskschema::migrations())
            if (auto e = transaction([&step](SqliteConnection &conn) { return deskschema::apply(conn, step); }))
                return e;
        return std::nullopt;
    }
    return migrate(current);
}

std::optional<Error> DeskWorker::migrate(int from)
{
    // A copy first, consistent, of the file as it is (VACUUM INTO never
    // touches the file it reads).
    const QString copy = u"%1.before-schema-%2"_s.arg(m_desk->m_path).arg(DeskDatabase::SchemaVersion);
    QFile::remove(copy);
    {
        sqlite3_stmt *q = nullptr;
        int rc = sqlite3_prepare_v2(m_conn->handle(), "VACUUM INTO ?1", -1, &q, nullptr);
        const QByteArray target = copy.toUtf8();
        if (rc == SQLITE_OK)
            sqlite3_bind_text(q, 1, target.constData(), int(target.size()), SQLITE_TRANSIENT);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(q);
        sqlite3_finalize(q);
        if (rc != SQLITE_DONE)
            return m_conn->errorFromCode(rc, u"cannot keep a copy of %1 before upgrading it (nothing was changed)"_s.arg(m_desk->m_path));
    }
    qCInfo(lcStore).noquote() << "upgrading" << m_desk->m_path << "from schema" << from << "to" << DeskDatabase::SchemaVersion;
    for (const deskschema::Migration &step : deskschema::migrations()) {
        if (step.version <= from)
            continue;
        std::optional<Error> e = transaction([&step](SqliteConnection &conn) { return deskschema::apply(conn, step); });
        if (!e)
            continue;
        // Put the file back from the copy, whole, through SQLite's backup (the
        // connection stays open; readers see the old file or the restored one).
        sqlite3 *src = nullptr;
        int rc = sqlite3_open_v2(QFile::encodeName(copy).constData(), &src, SQLITE_OPEN_READONLY, nullptr);
        if (rc == SQLITE_OK) {
            sqlite3_backup *b = sqlite3_backup_init(m_conn->handle(), "main", src, "main");
            rc = b ? sqlite3_backup_step(b, -1) : sqlite3_errcode(m_conn->handle());
            if (b)
                sqlite3_backup_finish(b);
        }
        sqlite3_close(src);
        const bool restored = rc == SQLITE_DONE;
        if (restored)
            QFile::remove(copy);
        e->field = u"desk"_s;
        e->message = restored
            ? u"cannot bring %1 to schema %2: %3. It is as it was before (schema %4)"_s.arg(m_desk->m_path).arg(step.version)
                  .arg(e->message).arg(from)
            : u"cannot bring %1 to schema %2: %3. A copy of it as it was is %4"_s.arg(m_desk->m_path).arg(step.version)
                  .arg(e->message, copy);
        return e;
    }
    QFile::remove(copy);
    return std::nullopt;
}

// An older EventDesk kept its tables inside the engine's file. They are copied
// here once (read through a read-only connection: that file is not changed)
// and left where they were.
std::optional<Error> DeskWorker::moveOldTables()
{
    QSqlQuery q(m_conn->database());
    if (!m_conn->prepareAndExec(q, u"SELECT value FROM eventdesk_meta WHERE key = 'moved_from_log'"_s))
        return m_conn->lastError(q, u"cannot read EventDesk's own database"_s);
    const bool done = q.next();
    q.finish();
    if (done || !QFileInfo::exists(m_desk->m_engine.path))
        return std::nullopt;
    SqliteOptions options = m_desk->m_engine;
    options.readOnly = true;
    auto engine = SqliteConnection::open(options, u"desk-move"_s, false);
    if (!engine)
        return std::nullopt;  // not readable as a log: nothing of ours can be in it
    SqliteConnection &old = *engine.value();
    QSqlQuery tables(old.database());
    QStringList present;
    if (old.prepareAndExec(tables, u"SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'eventdesk\\_%' ESCAPE '\\'"_s))
        while (tables.next())
            present.append(tables.value(0).toString());
    tables.finish();
    qint64 copied = 0;
    const auto copy = [&](SqliteConnection &conn) -> std::optional<Error> {
        for (const QString &table : OldTables) {
            if (!present.contains(table))
                continue;
            QSqlQuery from(old.database());
            from.setForwardOnly(true);
            if (!old.prepareAndExec(from, u"SELECT * FROM %1"_s.arg(table)))
                return old.lastError(from, u"cannot read %1 from %2"_s.arg(table, old.options().path));
            const int columns = from.record().count();
            // Named columns: a table here may have gained columns since (their defaults fill them).
            QStringList names, marks;
            for (int i = 0; i < columns; ++i) {
                names.append(u'"' + from.record().fieldName(i) + u'"');
                marks.append(u"?"_s);
            }
            QSqlQuery to(conn.database());
            if (!to.prepare(u"INSERT OR IGNORE INTO %1(%2) VALUES(%3)"_s.arg(table, names.join(u','), marks.join(u','))))
                return conn.lastError(to, u"cannot copy %1"_s.arg(table));
            while (from.next()) {
                for (int i = 0; i < columns; ++i)
                    to.bindValue(i, from.value(i));
                if (!to.exec())
                    return conn.lastError(to, u"cannot copy %1"_s.arg(table));
                ++copied;
            }
            from.finish();
            to.finish();
        }
        return conn.exec(u"INSERT OR REPLACE INTO eventdesk_meta(key, value) VALUES('moved_from_log', ?)"_s,
                         {timestamp::now()});
    };
    if (auto e = transaction(copy))
        return e;
    if (copied > 0)
        qCInfo(lcStore).noquote() << "moved" << copied << "rows of EventDesk's own tables out of" << old.options().path
                                  << "into" << m_desk->m_path << "(the old tables are left as they were)";
    return std::nullopt;
}

// --- the desk -----------------------------------------------------------------

DeskDatabase::DeskDatabase(QString path, SqliteOptions engine, bool readOnly, QObject *parent)
    : QObject(parent)
    , m_path(std::move(path))
    , m_engine(std::move(engine))
    , m_readOnly(readOnly)
{
}

DeskDatabase::~DeskDatabase()
{
    if (m_thread)
        m_thread->stop();
}

DeskWorker *DeskDatabase::worker() const { return m_thread ? m_thread->object() : nullptr; }

QFuture<Result<bool>> DeskDatabase::open()
{
    if (m_thread)
        return QtFuture::makeReadyFuture(Result<bool>(Error{ErrorCode::Usage, {}, u"already open"_s}));
    m_thread = std::make_unique<WorkerThread<DeskWorker>>(u"eventdesk-desk"_s);
    DeskWorker *w = m_thread->create(this);
    return runOn<Result<bool>>(w, [w] { return w->open(); });
}

QFuture<Result<bool>> DeskDatabase::write(WriteFn fn)
{
    DeskWorker *w = worker();
    if (!w)
        return QtFuture::makeReadyFuture(Result<bool>(Error{ErrorCode::Unavailable, {}, u"EventDesk's own database is not open"_s}));
    return runOn<Result<bool>>(w, [w, fn = std::move(fn)]() -> Result<bool> {
        if (auto e = w->transaction(fn))
            return *e;
        return true;
    });
}

void DeskDatabase::startIndexing()
{
    if (DeskWorker *w = worker())
        QMetaObject::invokeMethod(w, [w] { w->startIndexing(); }, Qt::QueuedConnection);
}

void DeskDatabase::pauseIndexing()
{
    if (DeskWorker *w = worker())
        QMetaObject::invokeMethod(w, [w] { w->stopIndexing(); }, Qt::QueuedConnection);
}

void DeskDatabase::setIndexRate(int rowsPerSecond)
{
    if (DeskWorker *w = worker())
        QMetaObject::invokeMethod(w, [w, rowsPerSecond] { w->setMaxRate(rowsPerSecond); }, Qt::QueuedConnection);
}

void DeskDatabase::wakeIndex()
{
    // Called after every commit: the desk's thread is woken only while it
    // follows the log, and once for any number of commits until it looks.
    if (!m_following.load(std::memory_order_relaxed) || m_wakePending.exchange(true))
        return;
    if (DeskWorker *w = worker())
        QMetaObject::invokeMethod(w, [this, w] {
            m_wakePending.store(false);
            w->wake();
        }, Qt::QueuedConnection);
    else
        m_wakePending.store(false);
}

void DeskDatabase::setIndexedProcessed(const QList<qint64> &ids, bool processed)
{
    if (DeskWorker *w = worker())
        QMetaObject::invokeMethod(w, [w, ids, processed] { w->setProcessed(ids, processed); }, Qt::QueuedConnection);
}

QFuture<Result<bool>> DeskDatabase::recordWorlds(const QList<std::pair<qint64, QString>> &worlds)
{
    DeskWorker *w = worker();
    if (!w)
        return QtFuture::makeReadyFuture(Result<bool>(Error{ErrorCode::Unavailable, {}, u"EventDesk's own database is not open"_s}));
    auto promise = std::make_shared<QPromise<Result<bool>>>();
    promise->start();
    QFuture<Result<bool>> f = promise->future();
    QMetaObject::invokeMethod(w, [w, worlds, promise] {
        const std::optional<Error> e = w->recordWorlds(worlds);
        promise->addResult(e ? Result<bool>(*e) : Result<bool>(true));
        promise->finish();
    }, Qt::QueuedConnection);
    return f;
}

void DeskDatabase::forgetIndexed(const QList<qint64> &ids)
{
    if (DeskWorker *w = worker())
        QMetaObject::invokeMethod(w, [w, ids] { w->forget(ids); }, Qt::QueuedConnection);
}

QFuture<Result<qint64>> DeskDatabase::indexNow()
{
    DeskWorker *w = worker();
    if (!w || m_readOnly)
        return QtFuture::makeReadyFuture(Result<qint64>(Error{ErrorCode::Unavailable, {}, u"no writable index"_s}));
    auto promise = std::make_shared<QPromise<Result<qint64>>>();
    promise->start();
    QFuture<Result<qint64>> f = promise->future();
    QMetaObject::invokeMethod(w, [w, promise] { w->addWaiter(promise); }, Qt::QueuedConnection);
    return f;
}

QFuture<Result<qint64>> DeskDatabase::loadCursor(const QString &name)
{
    // On the desk's one thread, after any save queued before it.
    return read<qint64>([name](SqliteConnection &conn) -> Result<qint64> {
        QSqlQuery q(conn.database());
        if (!conn.prepareAndExec(q, u"SELECT last_id FROM eventdesk_cursors WHERE name = ?"_s, {name}))
            return conn.lastError(q, u"cannot read the cursor of %1"_s.arg(name));
        const qint64 id = q.next() ? q.value(0).toLongLong() : 0;
        q.finish();
        return id;
    });
}

QFuture<Result<bool>> DeskDatabase::saveCursor(const QString &name, qint64 lastId)
{
    return write([name, lastId](SqliteConnection &conn) {
        // Cursors only move forward, whatever order saves arrive in.
        return conn.exec(u"INSERT INTO eventdesk_cursors(name, last_id, updated_at) VALUES(?, ?, ?) "
                         "ON CONFLICT(name) DO UPDATE SET last_id = max(last_id, excluded.last_id), "
                         "updated_at = excluded.updated_at"_s,
                         {name, lastId, timestamp::now()});
    });
}

QFuture<Result<qint64>> DeskDatabase::audit(const QString &actor, const QString &action, const QString &detail)
{
    return writeValue<qint64>([=](SqliteConnection &conn) -> Result<qint64> {
        QSqlQuery q(conn.database());
        if (!conn.prepareAndExec(q, u"INSERT INTO eventdesk_audit(at, actor, action, detail) VALUES(?, ?, ?, ?)"_s,
                                 {timestamp::now(), actor, action, detail}))
            return conn.lastError(q, u"cannot write the audit log"_s);
        const qint64 id = q.lastInsertId().toLongLong();
        q.finish();
        return id;
    });
}

QFuture<Result<QList<AuditEntry>>> DeskDatabase::auditLog(int limit, qint64 beforeId)
{
    return read<QList<AuditEntry>>([limit, beforeId](SqliteConnection &conn) -> Result<QList<AuditEntry>> {
        QSqlQuery q(conn.database());
        if (!conn.prepareAndExec(q, u"SELECT id, at, actor, action, detail FROM eventdesk_audit WHERE id < ? "
                                    "ORDER BY id DESC LIMIT ?"_s,
                                 {beforeId > 0 ? beforeId : std::numeric_limits<qint64>::max(), qBound(1, limit, 100000)}))
            return conn.lastError(q, u"cannot read the audit log"_s);
        QList<AuditEntry> out;
        while (q.next())
            out.append({q.value(0).toLongLong(), timestamp::parse(q.value(1).toString()), q.value(2).toString(),
                        q.value(3).toString(), q.value(4).toString()});
        q.finish();
        return out;
    });
}

QFuture<Result<Challenge>> DeskDatabase::addChallenge(const QString &worldId, const QString &name, int difficulty)
{
    if (worldId.trimmed().isEmpty() || name.trimmed().isEmpty())
        return QtFuture::makeReadyFuture(Result<Challenge>(Error{ErrorCode::Usage, {}, u"a challenge needs a world and a name"_s}));
    if (difficulty < 1 || difficulty > 40)
        return QtFuture::makeReadyFuture(Result<Challenge>(Error{ErrorCode::Usage, u"difficulty"_s, u"difficulty must be 1..40"_s}));
    const Challenge c{QUuid::createUuid().toString(QUuid::WithoutBraces), worldId.trimmed(), name.trimmed(), difficulty};
    return write([c](SqliteConnection &conn) -> std::optional<Error> {
               QSqlQuery q(conn.database());
               if (!conn.prepareAndExec(q, u"INSERT INTO eventdesk_challenges(id, world_id, name, difficulty, created_at) "
                                           "VALUES(?, ?, ?, ?, ?)"_s,
                                        {c.id, c.worldId, c.name, c.difficulty, timestamp::now()})) {
                   if (q.lastError().text().contains("UNIQUE"_L1))
                       return Error{ErrorCode::Usage, u"name"_s,
                                    u"world %1 already has a challenge named \"%2\""_s.arg(c.worldId, c.name)};
                   return conn.lastError(q, u"cannot add the challenge"_s);
               }
               q.finish();
               return std::nullopt;
           })
        .then([c](const Result<bool> &r) -> Result<Challenge> {
            if (!r)
                return r.error();
            return c;
        });
}

QFuture<Result<bool>> DeskDatabase::updateChallenge(const Challenge &c)
{
    if (c.difficulty < 1 || c.difficulty > 40 || c.name.trimmed().isEmpty())
        return QtFuture::makeReadyFuture(Result<bool>(Error{ErrorCode::Usage, {}, u"a challenge needs a name and a difficulty 1..40"_s}));
    return write([c](SqliteConnection &conn) -> std::optional<Error> {
        QSqlQuery q(conn.database());
        if (!conn.prepareAndExec(q, u"UPDATE eventdesk_challenges SET name = ?, difficulty = ? WHERE id = ?"_s,
                                 {c.name.trimmed(), c.difficulty, c.id}))
            return conn.lastError(q, u"cannot change the challenge"_s);
        const bool found = q.numRowsAffected() > 0;
        q.finish();
        if (!found)
            return Error{ErrorCode::NotFound, {}, u"no challenge %1"_s.arg(c.id)};
        return std::nullopt;
    });
}

QFuture<Result<bool>> DeskDatabase::removeChallenge(const QString &id)
{
    return write([id](SqliteConnection &conn) {
        return conn.exec(u"DELETE FROM eventdesk_challenges WHERE id = ?"_s, {id});
    });
}

QFuture<Result<QList<Challenge>>> DeskDatabase::challenges(const QString &worldId)
{
    return read<QList<Challenge>>([worldId](SqliteConnection &conn) -> Result<QList<Challenge>> {
        QSqlQuery q(conn.database());
        const bool all = worldId.isEmpty();
        if (!conn.prepareAndExec(q, u"SELECT id, world_id, name, difficulty FROM eventdesk_challenges "_s
                                        + (all ? QString() : u"WHERE world_id = ? "_s) + u"ORDER BY world_id, name"_s,
                                 all ? QVariantList{} : QVariantList{worldId}))
            return conn.lastError(q, u"cannot list challenges"_s);
        QList<Challenge> out;
        while (q.next())
            out.append({q.value(0).toString(), q.value(1).toString(), q.value(2).toString(), q.value(3).toInt()});
        q.finish();
        return out;
    });
}

QFuture<Result<bool>> DeskDatabase::setDisplayName(const QString &kind, const QString &id, const QString &name)
{
    return write([kind, id, name = name.trimmed()](SqliteConnection &conn) -> std::optional<Error> {
        if (name.isEmpty())
            return conn.exec(u"DELETE FROM eventdesk_names WHERE id = ?"_s, {id});
        return conn.exec(u"INSERT INTO eventdesk_names(id, kind, name, updated_at) VALUES(?, ?, ?, ?) "
                         "ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, name = excluded.name, "
                         "updated_at = excluded.updated_at"_s,
                         {id, kind, name.left(200), timestamp::now()});
    });
}

QFuture<Result<QHash<QString, QString>>> DeskDatabase::displayNames()
{
    return read<QHash<QString, QString>>([](SqliteConnection &conn) -> Result<QHash<QString, QString>> {
        QSqlQuery q(conn.database());
        q.setForwardOnly(true);
        if (!conn.prepareAndExec(q, u"SELECT id, name FROM eventdesk_names"_s))
            return conn.lastError(q, u"cannot read display names"_s);
        QHash<QString, QString> out;
        while (q.next())
            out.insert(q.value(0).toString(), q.value(1).toString());
        q.finish();
        return out;
    });
}

// Settings share eventdesk_meta with EventDesk's own bookkeeping, under their own prefix.
QFuture<Result<QString>> DeskDatabase::setting(const QString &key)
{
    return read<QString>([key](SqliteConnection &conn) -> Result<QString> {
        QSqlQuery q(conn.database());
        if (!conn.prepareAndExec(q, u"SELECT value FROM eventdesk_meta WHERE key = ?"_s, {QString(u"setting."_s + key)}))
            return conn.lastError(q, u"cannot read a setting"_s);
        const QString value = q.next() ? q.value(0).toString() : QString();
        q.finish();
        return value;
    });
}

QFuture<Result<bool>> DeskDatabase::setSetting(const QString &key, const QString &value)
{
    return write([key = QString(u"setting."_s + key), value](SqliteConnection &conn) -> std::optional<Error> {
        if (value.isEmpty())
            return conn.exec(u"DELETE FROM eventdesk_meta WHERE key = ?"_s, {key});
        return conn.exec(u"INSERT OR REPLACE INTO eventdesk_meta(key, value) VALUES(?, ?)"_s, {key, value.left(1000)});
    });
}

QFuture<Result<std::optional<Challenge>>> DeskDatabase::challenge(const QString &id)
{
    return read<std::optional<Challenge>>([id](SqliteConnection &conn) -> Result<std::optional<Challenge>> {
        QSqlQuery q(conn.database());
        if (!conn.prepareAndExec(q, u"SELECT id, world_id, name, difficulty FROM eventdesk_challenges WHERE id = ?"_s, {id}))
            return conn.lastError(q, u"cannot read the challenge"_s);
        std::optional<Challenge> c;
        if (q.next())
            c = Challenge{q.value(0).toString(), q.value(1).toString(), q.value(2).toString(), q.value(3).toInt()};
        q.finish();
        return c;
    });
}

} // namespace eventdesk
