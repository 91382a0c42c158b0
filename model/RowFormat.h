// The row forms of the command line (DESIGN §6): one JSON object per app_events
// row for tail/export/import, and RFC 4180 CSV for export.
#pragma once

#include "Ports.h"

#include <QByteArray>

namespace eventdesk::rows {

// {"id":N,"event_type":"…","created_at":"…","processed":false,"processed_at":null,"event":{…}}
// or, for a row that does not decode, "event":null,"raw":"…","error":"…"; a
// recorded message of today's engine adds "recorded":{"world_id":"…"}, and
// import brings it back as it was (its raw text, byte for byte, and its world).
QByteArray toJsonLine(const StoredEvent &row);

// One line of import: that row form (its "event" is used; ids are not kept) or
// a bare AppEvent in either tagged form.
Result<AppEvent> eventFromImportLine(QByteArrayView line);

// The same line with what the row form carries besides the event: its id,
// created_at (kept as written), processed and processed_at. A bare AppEvent
// has none of them (id 0, empty times, not processed).
struct ImportedRow {
    AppEvent event;
    // A recorded engine message instead of an AppEvent (event is then empty):
    // its tag, its text as it came, and the world it came from.
    std::optional<EventStore::RecordedRow> recorded;
    qint64 id = 0;
    QString createdAt;
    bool processed = false;
    QString processedAt;
};
Result<ImportedRow> rowFromImportLine(QByteArrayView line);

QByteArray csvHeader();
QByteArray toCsvRow(const StoredEvent &row);
// RFC 4180: quoted when it holds a comma, quote, CR or LF; quotes doubled.
QByteArray csvField(const QString &value);

} // namespace eventdesk::rows
