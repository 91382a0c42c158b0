// What the engine-file tests share: an engine writing its own database the way
// the engine does (raw SQLite, its schema), a file's fingerprint (sha256,
// schema, journal mode), and running the eventdesk command line.
#pragma once

#include "EventCodec.h"
#include "SampleEvents.h"
#include "TestSupport.h"
#include "Timestamp.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QSqlQuery>
#include <QTimeZone>

#include <sqlite3.h>
#include <unistd.h>

namespace eventdesk::test {

using namespace Qt::StringLiterals;

struct Run {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

// prefix: run the binary through another program (setpriv, to read as nobody).
inline Run run(const QStringList &args, const QByteArray &input = {}, const QStringList &prefix = {},
        const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment())
{
    QProcess p;
    p.setProcessEnvironment(env);
    if (prefix.isEmpty())
        p.start(QStringLiteral(EVENTDESK_BINARY), args);
    else
        p.start(prefix.first(), prefix.mid(1) + QStringList{QStringLiteral(EVENTDESK_BINARY)} + args);
    if (!input.isNull()) {
        p.write(input);
        p.closeWriteChannel();
    } else {
        p.closeWriteChannel();
    }
    if (!p.waitForFinished(120000))
        return {};
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2, p.readAllStandardOutput(), p.readAllStandardError()};
}

inline bool oneClearLine(const QByteArray &err) { return err.startsWith("eventdesk: ") && err.count('\n') == 1; }

inline QString worldUuid(int i) { return u"00000000-0000-4000-8000-%1"_s.arg(i, 12, 10, QLatin1Char('0')); }

// The engine's side: its table exactly, its own journal mode, its own rows.
class Engine
{
public:
    explicit Engine(const QString &path, const char *journal = "delete") : m_path(path)
    {
        sqlite3_open(QFile::encodeName(path).constData(), &m_db);
        exec(QByteArray("PRAGMA journal_mode=") + journal);
        exec("CREATE TABLE IF NOT EXISTS app_events (id INTEGER PRIMARY KEY AUTOINCREMENT, event_type TEXT NOT NULL, "
             "payload TEXT NOT NULL, created_at TEXT NOT NULL, processed INTEGER NOT NULL DEFAULT 0, processed_at TEXT)");
    }
    ~Engine() { sqlite3_close(m_db); }

    void exec(const QByteArray &sql) { sqlite3_exec(m_db, sql.constData(), nullptr, nullptr, nullptr); }

    // count rows: worlds cycle over `worlds` (every 7th row has none, every
    // 11th a payload that is not JSON), types over every variant, times one a
    // second from base with a sub-second part.
    void add(int count, int worlds = 5, qint64 baseSecond = 1764000000)
    {
        exec("BEGIN");
        sqlite3_stmt *insert = nullptr;
        sqlite3_prepare_v2(m_db, "INSERT INTO app_events(event_type, payload, created_at) VALUES(?1, ?2, ?3)", -1, &insert, nullptr);
        const QList<EventKind> kinds = allKinds();
        for (int i = 0; i < count; ++i, ++m_added) {
            const int n = m_added;
            const EventKind kind = kinds.at(n % kinds.size());
            QByteArray type = catalog::name(kind).toUtf8();
            QByteArray payload = codec::encode(sampleEvent(kind, n % 2 == 0, n % 7 == 0 ? QString() : worldUuid(n % worlds)));
            if (n % 11 == 0)
                payload = "not json at all";
            if (n % 13 == 0)
                type = "SomethingNew";  // a variant this EventDesk does not know
            const QByteArray at = QDateTime::fromSecsSinceEpoch(baseSecond + n, Qt::UTC)
                                      .toString(u"yyyy-MM-ddTHH:mm:ss"_s).toUtf8()
                + (n % 3 == 0 ? ".250+00:00" : n % 3 == 1 ? ".5Z" : ".123456Z");
            sqlite3_bind_text(insert, 1, type.constData(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(insert, 2, payload.constData(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(insert, 3, at.constData(), -1, SQLITE_TRANSIENT);
            sqlite3_step(insert);
            sqlite3_reset(insert);
        }
        sqlite3_finalize(insert);
        exec("COMMIT");
    }

private:
    QString m_path;
    sqlite3 *m_db = nullptr;
    int m_added = 0;
};

struct Fingerprint {
    QByteArray sha256;
    QString schema;
    QString journal;
    bool operator==(const Fingerprint &) const = default;
};

inline Fingerprint fingerprint(const QString &path)
{
    Fingerprint f;
    QFile file(path);
    if (file.open(QIODevice::ReadOnly))
        f.sha256 = QCryptographicHash::hash(file.readAll(), QCryptographicHash::Sha256).toHex();
    file.close();
    // Read-only, and never a checkpoint on close: looking must not change it.
    sqlite3 *db = nullptr;
    if (sqlite3_open_v2(QFile::encodeName(path).constData(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
        sqlite3_stmt *q = nullptr;
        sqlite3_prepare_v2(db, "SELECT group_concat(type || ' ' || name || ' ' || coalesce(sql, ''), char(10)) "
                               "FROM (SELECT * FROM sqlite_master ORDER BY name)", -1, &q, nullptr);
        if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
            f.schema = QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(q, 0)));
        sqlite3_finalize(q);
        sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, nullptr);
        if (sqlite3_step(q) == SQLITE_ROW)
            f.journal = QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(q, 0)));
        sqlite3_finalize(q);
    }
    sqlite3_close(db);
    return f;
}

inline QByteArray fileBytes(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

inline qint64 scalar(const QString &path, const char *sql)
{
    sqlite3 *db = nullptr;
    qint64 v = -1;
    if (sqlite3_open_v2(QFile::encodeName(path).constData(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_stmt *q = nullptr;
        if (sqlite3_prepare_v2(db, sql, -1, &q, nullptr) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
            v = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
    }
    sqlite3_close(db);
    return v;
}

inline QList<qint64> ids(const Result<QList<StoredEvent>> &rows)
{
    QList<qint64> out;
    if (rows)
        for (const StoredEvent &e : rows.value())
            out.append(e.id);
    return out;
}

} // namespace eventdesk::test
