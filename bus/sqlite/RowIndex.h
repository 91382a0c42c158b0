// The row index in EventDesk's own database, as the log's reader uses it: the
// reader's connection attaches the desk as "desk" and reads rows up to the
// indexed id through the index, and the rows past it (not indexed yet) by
// scanning the log. Every answer is whole before the index is complete.
#pragma once

#include "Ports.h"

#include <QString>
#include <QVariantList>

namespace eventdesk::rowindex {

// Conditions on desk.eventdesk_rows (as r) for the query's world, type and
// time filters and its id bounds; never the text filter (the payload is in
// the log). Starts with " AND ", or is empty.
QString conditions(const EventQuery &query, QVariantList &values);

// The index keeps created_at in whole seconds since 2000-01-01 UTC (rounded down).
qint64 indexSecond(qint64 nanos);

} // namespace eventdesk::rowindex
