// The timestamp form of the app_events table and the session protocol:
// ISO-8601 UTC with milliseconds, "2026-11-26T20:01:02.345Z".
#pragma once

#include <QDateTime>
#include <QString>

namespace eventdesk::timestamp {

QString format(const QDateTime &when);
QString now();
// Accepts the form above and other ISO-8601 spellings the engine may write
// (no milliseconds, "+00:00", a space instead of "T"); invalid QDateTime if none fits.
QDateTime parse(QStringView text);

} // namespace eventdesk::timestamp
