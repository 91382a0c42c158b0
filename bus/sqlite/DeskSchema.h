// EventDesk's own database, table by table: the base tables (schema 3) and
// the numbered steps from there to the newest (DeskWorker::createSchema runs
// them, each once, in a transaction of its own). Private to bus/sqlite.
#pragma once

#include "Result.h"

#include <QList>
#include <QStringList>

#include <optional>

namespace eventdesk {
class SqliteConnection;
}

namespace eventdesk::deskschema {

inline constexpr int BaseVersion = 3;  // what baseTables() makes

const QStringList &baseTables();

struct Migration {
    int version;              // the schema this step brings a file to
    QStringList statements;
};
const QList<Migration> &migrations();

// One step's statements and its version stamp, inside the caller's transaction.
std::optional<Error> apply(SqliteConnection &conn, const Migration &step);

} // namespace eventdesk::deskschema
