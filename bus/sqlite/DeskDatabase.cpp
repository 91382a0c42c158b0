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
#include <QStandardPaths>
#include <QThread>
#include <QUuid>

#include <sqlite3.h>


using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

Error storageError(const QString &message) { return Error{ErrorCode::Storage, {}, message}; }

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
