#include "LogQueries.h"

#include "EventCatalog.h"
#include "RowIndex.h"
#include "Timestamp.h"

#include <sqlite3.h>

#include <array>

using namespace Qt::StringLiterals;

namespace eventdesk::logsql {

namespace {

QString columnText(sqlite3_stmt *stmt, int col)
{
    const auto *text = reinterpret_cast<const char *>(sqlite3_column_text(stmt, col));
    return text ? QString::fromUtf8(text, sqlite3_column_bytes(stmt, col)) : QString();
}

} // namespace

StoredEvent rowFrom(sqlite3_stmt *stmt)
{
    StoredEvent e;
    e.id = sqlite3_column_int64(stmt, 0);
    e.eventType = columnText(stmt, 1);
    const auto *payload = static_cast<const char *>(sqlite3_column_blob(stmt, 2));
    e.payload = QByteArray(payload, sqlite3_column_bytes(stmt, 2));
    e.createdAtText = columnText(stmt, 3);
    e.createdAt = timestamp::parse(e.createdAtText);
    e.processed = sqlite3_column_int(stmt, 4) != 0;
    if (sqlite3_column_type(stmt, 5) != SQLITE_NULL)
        e.processedAt = timestamp::parse(columnText(stmt, 5));
    e.decode();
    return e;
}

StoredEvent rowFrom(const QSqlQuery &q)
{
    StoredEvent e;
    e.id = q.value(0).toLongLong();
    e.eventType = q.value(1).toString();
    e.payload = q.value(2).toString().toUtf8();
    e.createdAtText = q.value(3).toString();
    e.createdAt = timestamp::parse(e.createdAtText);
    e.processed = q.value(4).toInt() != 0;
    if (!q.value(5).isNull())
        e.processedAt = timestamp::parse(q.value(5).toString());
    e.decode();
    return e;
}

void placeRecorded(sqlite3 *db, QList<StoredEvent> &rows)
{
    // Undecodable rows, and the two engine messages whose shape happens to
    // read as an AppEvent without a world (SuggestionQueued, SuggestionProgress).
    QList<qsizetype> undecoded;
    for (qsizetype i = 0; i < rows.size(); ++i) {
        const std::optional<AppEvent> &e = rows[i].event;
        if (!e || ((e->kind() == EventKind::SuggestionQueued || e->kind() == EventKind::SuggestionProgress) && e->worldId().isEmpty()))
            undecoded.append(i);
    }
    constexpr qsizetype Batch = 256;  // bound variables a statement
    for (qsizetype from = 0; from < undecoded.size(); from += Batch) {
        const qsizetype n = std::min(Batch, undecoded.size() - from);
        QByteArray sql = "SELECT id, world FROM desk.eventdesk_recorded WHERE id IN (";
        for (qsizetype i = 0; i < n; ++i)
            sql += i ? ",?" : "?";
        sql += ')';
        sqlite3_stmt *q = nullptr;
        if (sqlite3_prepare_v2(db, sql.constData(), int(sql.size()), &q, nullptr) != SQLITE_OK) {
            sqlite3_finalize(q);
            return;  // no desk attached, or one from before recording: nothing recorded there
        }
        QHash<qint64, qsizetype> at;
        for (qsizetype i = 0; i < n; ++i) {
            const qsizetype row = undecoded[from + i];
            at.insert(rows[row].id, row);
            sqlite3_bind_int64(q, int(i + 1), rows[row].id);
        }
        while (sqlite3_step(q) == SQLITE_ROW) {
            StoredEvent &row = rows[at.value(sqlite3_column_int64(q, 0))];
            row.recordedWorld = columnText(q, 1);
            row.engineTag = row.eventType;
            if (row.event) {  // the engine's, not EventDesk's: never an AppEvent to forward
                row.event.reset();
                row.decodeError = u"a message of today's engine, recorded"_s;
            }
        }
        sqlite3_finalize(q);
    }
}

// A case-insensitive substring of a column, with LIKE's wildcards escaped.
QString textCondition(const QString &text, const QString &column, QVariantList &values)
{
    QString escaped = text;
    escaped.replace(u'\\', u"\\\\"_s).replace(u'%', u"\\%"_s).replace(u'_', u"\\_"_s);
    values.append(QString(u'%' + escaped + u'%'));
    return column + u" LIKE ? ESCAPE '\\'"_s;
}

QString textConditions(const EventQuery &query, const QString &column, QVariantList &values)
{
    QStringList any{textCondition(query.text, column, values)};
    for (const QString &also : query.textAlso)
        if (!also.isEmpty())
            any.append(textCondition(also, column, values));
    return any.size() == 1 ? any.first() : u'(' + any.join(u" OR "_s) + u')';
}

// Rows up to this id are in the attached row index, which belongs to this log
// (the row at that id is the one indexed); 0 when there is no usable index.
qint64 indexedTo(SqliteConnection &conn)
{
    const char sql[] = "SELECT CAST(m.value AS INTEGER) FROM desk.eventdesk_meta m WHERE m.key = 'index_to' "
                       "AND (SELECT value FROM desk.eventdesk_meta WHERE key = 'index_sig') IS "
                       "(SELECT created_at || '|' || event_type FROM main.app_events WHERE id = CAST(m.value AS INTEGER))";
    sqlite3_stmt *stmt = nullptr;
    qint64 upTo = 0;
    if (sqlite3_prepare_v2(conn.handle(), sql, -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
        upTo = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);  // no desk attached: the statement does not prepare, and there is no index
    return upTo;
}

// A query split at the indexed id: the rows up to it are found through the
// index, the newer ones by scanning the log.

SplitQuery split(const EventQuery &query, qint64 upTo)
{
    SplitQuery q{query, query, false};
    q.tail.afterId = std::max(query.afterId, upTo);
    if (upTo > 0) {
        q.indexed.beforeId = query.beforeId > 0 ? std::min(query.beforeId, upTo + 1) : upTo + 1;
        q.useIndex = q.indexed.afterId + 1 < q.indexed.beforeId;
    }
    return q;
}

QString indexedSql(const EventQuery &query, QVariantList &values, Select what)
{
    // Without a text condition the index alone answers counts and ids.
    const bool indexOnly = what != Select::Rows && query.text.isEmpty();
    QString sql = what == Select::Count ? u"SELECT count(*)"_s
        : what == Select::Ids           ? u"SELECT r.id"_s
                                        : u"SELECT a.id, a.event_type, a.payload, a.created_at, a.processed, a.processed_at"_s;
    sql += indexOnly ? u" FROM desk.eventdesk_rows r WHERE 1"_s
                     : u" FROM desk.eventdesk_rows r CROSS JOIN app_events a ON a.id = r.id WHERE 1"_s;
    sql += rowindex::conditions(query, values);
    if (!query.text.isEmpty())
        sql += u" AND "_s + textConditions(query, u"a.payload"_s, values);
    return sql;
}

QString indexedPageSql(const EventQuery &query, QVariantList &values, bool newestFirst, qint64 limit)
{
    // With IN over several worlds SQLite reads every match of every world and
    // sorts them all for the page (seconds on a 10,000,000-row log); one
    // world at a time, the index hands each one's rows over in id order.
    constexpr qsizetype MaxMerged = 32;
    const QString order = newestFirst ? u" DESC"_s : QString();
    if (query.worlds.size() < 2 || query.worlds.size() > MaxMerged) {
        const QString sql = indexedSql(query, values, Select::Rows) + u" ORDER BY r.id"_s + order + u" LIMIT ?"_s;
        values.append(limit);
        return sql;
    }
    QStringList perWorld;
    for (const QString &world : query.worlds) {
        EventQuery one = query;
        one.worlds = {world};
        perWorld.append(u"SELECT id FROM ("_s + indexedSql(one, values, Select::Ids) + u" ORDER BY r.id"_s + order + u" LIMIT ?)"_s);
        values.append(limit);
    }
    values.append(limit);
    return u"SELECT a.id, a.event_type, a.payload, a.created_at, a.processed, a.processed_at FROM ("_s + perWorld.join(u" UNION ALL "_s)
        + u" ORDER BY id"_s + order + u" LIMIT ?) p CROSS JOIN app_events a ON a.id = p.id ORDER BY a.id"_s + order;
}

Result<qint64> anchorAt(SqliteConnection &conn, const EventQuery &query, qint64 upTo)
{
    const SplitQuery parts = split(query, upTo);
    const QString order = query.newestFirst ? u" DESC"_s : QString();
    qint64 skip = query.offset;
    // In the query's order: newest first, the rows past the index come first.
    for (const bool indexed : query.newestFirst ? std::array{false, true} : std::array{true, false}) {
        if (indexed && !parts.useIndex)
            continue;
        QVariantList values;
        QString ids;
        QString counted;
        if (indexed) {
            ids = indexedSql(parts.indexed, values, Select::Ids) + u" ORDER BY r.id"_s + order;
            QVariantList ignored;
            counted = indexedSql(parts.indexed, ignored, Select::Count);
        } else {
            const auto [where, tailValues] = whereFor(parts.tail);
            values = tailValues;
            ids = u"SELECT id FROM app_events"_s + where + u" ORDER BY id"_s + order;
            counted = u"SELECT count(*) FROM app_events"_s + where;
        }
        QVariantList countValues = values;
        values.append(skip);
        QSqlQuery q(conn.database());
        q.setForwardOnly(true);
        if (!conn.prepareAndExec(q, ids + u" LIMIT 1 OFFSET ?"_s, values))
            return conn.lastError(q, u"cannot read events"_s);
        if (q.next())
            return q.value(0).toLongLong();
        q.finish();
        // This part has fewer rows than are left to skip: skip all of them.
        if (!conn.prepareAndExec(q, counted, countValues))
            return conn.lastError(q, u"cannot count events"_s);
        skip -= q.next() ? q.value(0).toLongLong() : 0;
        q.finish();
        skip = std::max<qint64>(skip, 0);  // rows came in between the two reads
    }
    return qint64(0);
}

// WHERE clause and its values for a query (no ORDER/LIMIT).
std::pair<QString, QVariantList> whereFor(const EventQuery &query)
{
    QStringList conds;
    QVariantList values;
    const QString world = QLatin1StringView(WorldSql);
    if (!query.worlds.isEmpty()) {
        QStringList named;
        bool noWorld = false;
        for (const QString &w : query.worlds) {
            if (w.isEmpty()) {
                noWorld = true;
            } else {
                named.append(u"?"_s);
                values.append(w);
            }
        }
        QStringList parts;
        if (!named.isEmpty())
            parts.append(world + u" IN ("_s + named.join(u',') + u')');
        if (noWorld)
            parts.append(world + u" IS NULL"_s);
        conds.append(u'(' + parts.join(u" OR "_s) + u')');
    }
    if (!query.kinds.isEmpty() || !query.tags.isEmpty()) {
        QStringList marks;
        for (const QString &name : query.typeNames()) {
            marks.append(u"?"_s);
            values.append(name);
        }
        conds.append(u"event_type IN ("_s + marks.join(u',') + u')');
    } else if (!query.includeUndecodable) {
        QStringList marks;
        for (const VariantSpec &v : catalog::variants()) {
            marks.append(u"?"_s);
            values.append(v.name);
        }
        conds.append(u"event_type IN ("_s + marks.join(u',') + u')');
    }
    if (query.createdFrom)
        conds.append(createdAtLeastSql(*query.createdFrom, values));
    if (query.createdTo)
        conds.append(createdBeforeSql(*query.createdTo, values));
    if (!query.text.isEmpty())
        conds.append(textConditions(query, u"payload"_s, values));
    if (query.afterId > 0) {
        conds.append(u"id > ?"_s);
        values.append(query.afterId);
    }
    if (query.beforeId > 0) {
        conds.append(u"id < ?"_s);
        values.append(query.beforeId);
    }
    return {conds.isEmpty() ? QString() : u" WHERE "_s + conds.join(u" AND "_s), values};
}

} // namespace eventdesk::logsql
