// Timestamps of the app_events table and the session protocol. The engine
// writes RFC 3339 with an offset and 0, 3, 6 or 9 fraction digits
// ("2026-11-26T03:04:05.190137281+00:00"); EventDesk writes UTC with
// milliseconds ("2026-11-26T20:01:02.345Z"). Text is kept exactly as written;
// every comparison is made on instants: nanoseconds since the Unix epoch.
#pragma once

#include <QDateTime>
#include <QString>

#include <optional>

namespace eventdesk::timestamp {

QString format(const QDateTime &when);
QString formatNanos(qint64 nanos);  // "…T20:01:02.345678901Z", fraction digits as needed
QString now();
// now() as UTF-8, made without QDateTime: what every commit stamps its rows with.
QByteArray nowUtf8();

// Any RFC 3339 date-time: 'T', 't' or a space between date and time, any
// number of fraction digits (beyond 9 they are cut), 'Z', 'z' or ±HH:MM.
// Without an offset the time is UTC (the engine writes UTC). nullopt if it is
// not a date-time.
std::optional<qint64> parseNanos(QStringView text);
// The same, as a QDateTime (milliseconds); invalid if none fits.
QDateTime parse(QStringView text);

qint64 nanos(const QDateTime &when);
QDateTime fromNanos(qint64 nanos);

} // namespace eventdesk::timestamp
