// The SQL of the log's reads, shared by the store's reader connections: rows
// as StoredEvents, a query's WHERE clause over app_events, and the split of a
// query at the row index (rows up to the indexed id through EventDesk's own
// database, attached as "desk"; the newer ones by scanning the log).
#pragma once

struct sqlite3;

#include "Ports.h"
#include "SqliteConnection.h"

#include <QSqlQuery>
#include <QString>
#include <QVariantList>

struct sqlite3_stmt;

namespace eventdesk::logsql {

inline constexpr char SelectColumns[] = "SELECT id, event_type, payload, created_at, processed, processed_at FROM app_events";

StoredEvent rowFrom(sqlite3_stmt *stmt);
StoredEvent rowFrom(const QSqlQuery &q);
// Rows that are recorded messages of today's engine (eventdesk record) get
// the world they came from, kept in EventDesk's own database (attached as
// "desk"); any tag counts then, a newer engine's too. A no-op when no row
// is undecodable or nothing is attached.
void placeRecorded(sqlite3 *db, QList<StoredEvent> &rows);
// A case-insensitive substring of a column, with LIKE's wildcards escaped.
QString textCondition(const QString &text, const QString &column, QVariantList &values);
// The query's text (or any of its textAlso) in a column.
QString textConditions(const EventQuery &query, const QString &column, QVariantList &values);
// Rows up to this id are in the attached row index, which belongs to this log;
// 0 when there is no usable index.
qint64 indexedTo(SqliteConnection &conn);

struct SplitQuery {
    EventQuery indexed;  // ids <= upTo
    EventQuery tail;     // ids > upTo
    bool useIndex = false;
};
SplitQuery split(const EventQuery &query, qint64 upTo);
// The indexed part's statement, no ORDER/LIMIT: its rows, their count, or their ids (as r.id).
enum class Select { Rows, Count, Ids };
QString indexedSql(const EventQuery &query, QVariantList &values, Select what);
// A page of rows through the index, in id order, at most `limit`: the whole
// statement. Several worlds are read one by one through the (world, id) index
// and merged, each only as far as the page reaches.
QString indexedPageSql(const EventQuery &query, QVariantList &values, bool newestFirst, qint64 limit);
// WHERE clause and its values for a query over app_events (no ORDER/LIMIT).
std::pair<QString, QVariantList> whereFor(const EventQuery &query);
// The id of the row query.offset places from the start of the query's order
// (0: the query has no row there). Walks ids only: through the row index up
// to upTo, and the log itself after it.
Result<qint64> anchorAt(SqliteConnection &conn, const EventQuery &query, qint64 upTo);

} // namespace eventdesk::logsql
