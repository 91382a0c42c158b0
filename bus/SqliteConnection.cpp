#include "SqliteConnection.h"

#include "Logging.h"
#include "Timestamp.h"

#include <QAtomicInt>

#include <limits>
#include <QDir>
#include <QFileInfo>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>

#include <sqlite3.h>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

QAtomicInt connectionCounter;

Error storageError(const QString &message) { return Error{ErrorCode::Storage, {}, message}; }

// The engine's table, exactly (DESIGN §4).
constexpr char CreateAppEvents[] = R"(CREATE TABLE IF NOT EXISTS app_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_type TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL,
  processed INTEGER NOT NULL DEFAULT 0,
  processed_at TEXT
))";

struct Migration {
    int version;
    QStringList statements;
};

QList<Migration> migrations()
{
    return {
        {1,
         {
             u"CREATE INDEX IF NOT EXISTS eventdesk_app_events_type ON app_events(event_type, id)"_s,
             u"CREATE INDEX IF NOT EXISTS eventdesk_app_events_world ON app_events(%1, id)"_s.arg(QLatin1StringView(WorldSql)),
             u"CREATE INDEX IF NOT EXISTS eventdesk_app_events_created ON app_events(created_at)"_s,
             u"CREATE TABLE IF NOT EXISTS eventdesk_cursors (name TEXT PRIMARY KEY, last_id INTEGER NOT NULL, "
             "updated_at TEXT NOT NULL)"_s,
             u"CREATE TABLE IF NOT EXISTS eventdesk_audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, "
             "actor TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL)"_s,
             u"CREATE TABLE IF NOT EXISTS eventdesk_challenges (id TEXT PRIMARY KEY, world_id TEXT NOT NULL, "
             "name TEXT NOT NULL, difficulty INTEGER NOT NULL, created_at TEXT NOT NULL, UNIQUE(world_id, name))"_s,
             u"CREATE TABLE IF NOT EXISTS eventdesk_stats_minute (minute TEXT NOT NULL, event_type TEXT NOT NULL, "
             "world_id TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY(minute, event_type, world_id))"_s,
             u"CREATE TABLE IF NOT EXISTS eventdesk_challenge_stats (world_id TEXT NOT NULL, character_id TEXT NOT NULL, "
             "attempts INTEGER NOT NULL, successes INTEGER NOT NULL, PRIMARY KEY(world_id, character_id))"_s,
             u"CREATE TABLE IF NOT EXISTS eventdesk_jobs (kind TEXT NOT NULL, job_id TEXT NOT NULL, "
             "world_id TEXT NOT NULL, label TEXT NOT NULL, status TEXT NOT NULL, progress INTEGER, "
             "queued_at TEXT, updated_at TEXT NOT NULL, finished_at TEXT, duration_ms INTEGER, error TEXT, "
             "PRIMARY KEY(kind, job_id))"_s,
             u"CREATE TABLE IF NOT EXISTS eventdesk_timeline (event_id INTEGER PRIMARY KEY, world_id TEXT NOT NULL, "
             "created_at TEXT NOT NULL, event_type TEXT NOT NULL, summary TEXT NOT NULL)"_s,
             u"CREATE INDEX IF NOT EXISTS eventdesk_timeline_world ON eventdesk_timeline(world_id, event_id)"_s,
             u"CREATE TABLE IF NOT EXISTS eventdesk_archives (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, "
             "target TEXT NOT NULL, cutoff TEXT NOT NULL, first_id INTEGER, last_id INTEGER, rows INTEGER NOT NULL)"_s,
         }},
        {2,
         {
             // Display names for the UUIDs of worlds and characters (the engine wants UUIDs; people read names).
             u"CREATE TABLE IF NOT EXISTS eventdesk_names (id TEXT PRIMARY KEY, kind TEXT NOT NULL, "
             "name TEXT NOT NULL, updated_at TEXT NOT NULL)"_s,
         }},
    };
}

} // namespace

const int SqliteConnection::SchemaVersion = 2;

namespace {

void instantFunction(sqlite3_context *context, int, sqlite3_value **argv)
{
    const auto *text = reinterpret_cast<const char *>(sqlite3_value_text(argv[0]));
    if (!text) {
        sqlite3_result_null(context);
        return;
    }
    const std::optional<qint64> ns = timestamp::parseNanos(QString::fromUtf8(text, sqlite3_value_bytes(argv[0])));
    if (ns)
        sqlite3_result_int64(context, *ns);
    else
        sqlite3_result_null(context);
}

// The first 19 characters, "yyyy-MM-ddTHH:mm:ss", of an instant moved by a margin.
QString textBound(qint64 nanos, qint64 marginSeconds)
{
    if (nanos == std::numeric_limits<qint64>::max())
        return u"9999-12-31T23:59:59"_s;
    if (nanos == std::numeric_limits<qint64>::min())
        return u"0000-01-01T00:00:00"_s;
    return timestamp::fromNanos(nanos).addSecs(marginSeconds).toString(u"yyyy-MM-ddTHH:mm:ss"_s);
}

constexpr qint64 TextMarginSeconds = 48 * 3600;

} // namespace

void registerSqlFunctions(sqlite3 *db)
{
    sqlite3_create_function_v2(db, "eventdesk_instant", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                               &instantFunction, nullptr, nullptr, nullptr);
}

QString createdAtLeastSql(qint64 nanos, QVariantList &values)
{
    values.append(textBound(nanos, -TextMarginSeconds));
    values.append(nanos);
    return u"(created_at >= ? AND eventdesk_instant(created_at) >= ?)"_s;
}

QString createdBeforeSql(qint64 nanos, QVariantList &values)
{
    values.append(textBound(nanos, TextMarginSeconds));
    values.append(nanos);
    return u"(created_at < ? AND eventdesk_instant(created_at) < ?)"_s;
}

SqliteConnection::SqliteConnection(QSqlDatabase db, sqlite3 *handle, SqliteOptions options)
    : m_db(std::move(db))
    , m_handle(handle)
    , m_options(std::move(options))
{
}

SqliteConnection::~SqliteConnection()
{
    m_statements.clear();
    const QString name = m_db.connectionName();
    m_db.close();
    m_db = QSqlDatabase();
    QSqlDatabase::removeDatabase(name);
}

Result<std::unique_ptr<SqliteConnection>> SqliteConnection::open(const SqliteOptions &options, const QString &role,
                                                                 bool migrateSchema)
{
    if (options.path.isEmpty())
        return Error{ErrorCode::Usage, {}, u"no database path given"_s};
    const QFileInfo info(options.path);
    const QDir dir = info.absoluteDir();
    if (!dir.exists()) {
        if (!options.createDirectory || options.readOnly)
            return storageError(u"the folder %1 does not exist"_s.arg(QDir::toNativeSeparators(dir.path())));
        if (!QDir().mkpath(dir.path()))
            return storageError(u"cannot create the folder %1"_s.arg(QDir::toNativeSeparators(dir.path())));
    }
    if (info.exists()) {
        if (!info.isFile())
            return storageError(u"%1 is not a file"_s.arg(options.path));
        // Only stat() here: opening and closing our own descriptor on the file
        // would drop every POSIX lock SQLite holds on it in this process, and
        // another process would then take the WAL away from under us.
        if (info.size() > 0 && info.size() < 512)
            return storageError(u"%1 is not an SQLite database (%2 bytes is too short to be one)"_s.arg(options.path).arg(info.size()));
        if (!options.readOnly && !info.isWritable())
            return storageError(u"%1 is read-only: open it read-only to inspect it"_s.arg(options.path));
    } else if (options.readOnly || !options.createIfMissing) {
        return storageError(u"%1 does not exist"_s.arg(options.path));
    }

    const QString name = u"eventdesk-%1-%2"_s.arg(role).arg(connectionCounter.fetchAndAddRelaxed(1));
    QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, name);
    if (!db.isValid()) {
        QSqlDatabase::removeDatabase(name);
        return storageError(u"the Qt SQLite driver (QSQLITE) is not installed"_s);
    }
    db.setDatabaseName(options.path);
    QString connectOptions = u"QSQLITE_BUSY_TIMEOUT=%1"_s.arg(options.busyTimeoutMs);
    if (options.readOnly)
        connectOptions += u";QSQLITE_OPEN_READONLY"_s;
    db.setConnectOptions(connectOptions);
    if (!db.open()) {
        const QString why = db.lastError().text();
        db = QSqlDatabase();
        QSqlDatabase::removeDatabase(name);
        return storageError(u"cannot open %1: %2"_s.arg(options.path, why));
    }
    auto *handle = *static_cast<sqlite3 *const *>(db.driver()->handle().data());
    registerSqlFunctions(handle);
    std::unique_ptr<SqliteConnection> conn(new SqliteConnection(std::exchange(db, QSqlDatabase()), handle, options));

    // The first statements touch the file: a corrupt one fails here, clearly.
    QString why;
    int rc = conn->execRaw("SELECT count(*) FROM sqlite_master", &why);
    if (rc == SQLITE_NOTADB)
        return storageError(u"%1 is not an SQLite database"_s.arg(options.path));
    if (rc != SQLITE_OK)
        return storageError(u"%1 cannot be read: %2"_s.arg(options.path, why));
    // Look before touching anything: a foreign app_events is reported, not altered.
    bool hasTable = false;
    if (auto e = conn->checkEngineTable(&hasTable))
        return *e;
    if (!hasTable && (options.readOnly || !migrateSchema))
        return storageError(u"%1 has no app_events table"_s.arg(options.path));
    if (!options.readOnly) {
        // Switching to WAL needs a moment alone with the file; the engine may be writing.
        for (int attempt = 0; attempt < 40; ++attempt) {
            rc = conn->execRaw("PRAGMA journal_mode=WAL", &why);
            if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
                break;
            QThread::msleep(25);
        }
        if (rc != SQLITE_OK)
            return storageError(u"cannot switch %1 to WAL mode: %2"_s.arg(options.path, why));
        conn->execRaw(options.synchronousFull ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    }
    if (!hasTable) {
        if (auto e = conn->exec(QString::fromLatin1(CreateAppEvents)))
            return *e;
    }
    if (migrateSchema && !options.readOnly) {
        if (auto e = conn->migrate())
            return *e;
    }
    qCDebug(lcStore).noquote() << "opened" << options.path << "as" << name;
    return conn;
}

std::optional<Error> SqliteConnection::checkEngineTable(bool *exists)
{
    QSqlQuery q(m_db);
    if (!prepareAndExec(q, u"PRAGMA table_info(app_events)"_s))
        return lastError(q, u"cannot read the app_events schema"_s);
    struct Column {
        QString type;
        bool notNull;
        bool hasDefault;
        bool pk;
    };
    QHash<QString, Column> columns;
    while (q.next())
        columns.insert(q.value(1).toString().toLower(),
                       {q.value(2).toString().toUpper(), q.value(3).toBool(), !q.value(4).isNull(), q.value(5).toInt() > 0});
    q.finish();

    *exists = !columns.isEmpty();
    if (columns.isEmpty())
        return std::nullopt;
    const QList<std::pair<QString, QString>> expected = {
        {u"id"_s, u"INTEGER"_s},      {u"event_type"_s, u"TEXT"_s}, {u"payload"_s, u"TEXT"_s},
        {u"created_at"_s, u"TEXT"_s}, {u"processed"_s, u"INTEGER"_s}, {u"processed_at"_s, u"TEXT"_s},
    };
    const QString shape = u"the app_events table in %1 has a different shape: "_s.arg(m_options.path);
    for (const auto &[column, type] : expected) {
        const auto it = columns.constFind(column);
        if (it == columns.constEnd())
            return storageError(shape + u"no column %1"_s.arg(column));
        if (!it->type.contains(type))
            return storageError(shape + u"column %1 is %2, expected %3"_s.arg(column, it->type, type));
    }
    if (!columns.value(u"id"_s).pk)
        return storageError(shape + u"id is not the primary key"_s);
    for (auto it = columns.constBegin(); it != columns.constEnd(); ++it) {
        const bool known = std::any_of(expected.begin(), expected.end(), [&](const auto &e) { return e.first == it.key(); });
        if (!known && it->notNull && !it->hasDefault)
            return storageError(shape + u"extra column %1 is NOT NULL without a default"_s.arg(it.key()));
    }
    return std::nullopt;
}

std::optional<Error> SqliteConnection::migrate()
{
    if (auto e = exec(u"CREATE TABLE IF NOT EXISTS eventdesk_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"_s))
        return e;
    QSqlQuery q(m_db);
    if (!prepareAndExec(q, u"SELECT value FROM eventdesk_meta WHERE key = 'schema_version'"_s))
        return lastError(q, u"cannot read the EventDesk schema version"_s);
    const int current = q.next() ? q.value(0).toInt() : 0;
    q.finish();
    if (current > SchemaVersion)
        return storageError(u"%1 was written by a newer EventDesk (schema %2, this one knows %3)"_s
                                .arg(m_options.path).arg(current).arg(SchemaVersion));
    for (const Migration &m : migrations()) {
        if (m.version <= current)
            continue;
        QString why;
        int rc = SQLITE_BUSY;
        for (int attempt = 0; attempt < 100 && rc == SQLITE_BUSY; ++attempt) {
            rc = execRaw("BEGIN IMMEDIATE", &why);
            if (rc == SQLITE_BUSY)
                QThread::msleep(50);
        }
        if (rc != SQLITE_OK)
            return storageError(u"cannot migrate %1: %2"_s.arg(m_options.path, why));
        for (const QString &sql : m.statements) {
            if (auto e = exec(sql)) {
                execRaw("ROLLBACK");
                return e;
            }
        }
        if (auto e = exec(u"INSERT OR REPLACE INTO eventdesk_meta(key, value) VALUES('schema_version', ?)"_s,
                          {QString::number(m.version)})) {
            execRaw("ROLLBACK");
            return e;
        }
        if (execRaw("COMMIT", &why) != SQLITE_OK) {
            execRaw("ROLLBACK");
            return storageError(u"cannot migrate %1: %2"_s.arg(m_options.path, why));
        }
        qCInfo(lcStore).noquote() << "migrated" << m_options.path << "to schema" << m.version;
    }
    return std::nullopt;
}

bool SqliteConnection::prepareAndExec(QSqlQuery &query, const QString &sql, const QVariantList &values)
{
    if (!query.prepare(sql))
        return false;
    for (const QVariant &v : values)
        query.addBindValue(v);
    return query.exec();
}

Error SqliteConnection::lastError(const QSqlQuery &query, const QString &what) const
{
    qCWarning(lcStore).noquote() << what << "| query:" << query.lastQuery() << "| values:" << query.boundValues()
                                 << "| error:" << query.lastError().text();
    const QString text = query.lastError().text();
    const bool busy = text.contains("locked"_L1) || text.contains("busy"_L1);
    return Error{busy ? ErrorCode::Busy : ErrorCode::Storage, {}, what + u": "_s + text};
}

std::optional<Error> SqliteConnection::exec(const QString &sql, const QVariantList &values)
{
    // Statements run often (projections, cursors) stay prepared.
    auto it = m_statements.find(sql);
    if (it == m_statements.end()) {
        QSqlQuery q(m_db);
        if (!q.prepare(sql))
            return lastError(q, u"database statement failed"_s);
        if (m_statements.size() > 64)
            m_statements.clear();
        it = m_statements.insert(sql, q);
    }
    QSqlQuery &q = it.value();
    for (int i = 0; i < values.size(); ++i)
        q.bindValue(i, values.at(i));
    if (!q.exec()) {
        const Error e = lastError(q, u"database statement failed"_s);
        q.finish();
        return e;
    }
    q.finish();
    return std::nullopt;
}

int SqliteConnection::execRaw(const char *sql, QString *errorMessage)
{
    char *err = nullptr;
    const int rc = sqlite3_exec(m_handle, sql, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        const QString text = err ? QString::fromUtf8(err) : QString::fromUtf8(sqlite3_errstr(rc));
        if (rc != SQLITE_BUSY)
            qCWarning(lcStore).noquote() << "statement failed:" << sql << "|" << text;
        if (errorMessage)
            *errorMessage = text;
    }
    sqlite3_free(err);
    return rc;
}

Error SqliteConnection::errorFromCode(int rc, const QString &what) const
{
    const int primary = rc & 0xff;
    const ErrorCode code = (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) ? ErrorCode::Busy : ErrorCode::Storage;
    return Error{code, {}, u"%1: %2"_s.arg(what, QString::fromUtf8(sqlite3_errmsg(m_handle)))};
}

} // namespace eventdesk
