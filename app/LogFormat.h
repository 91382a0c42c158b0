// How the command line writes to stderr: "eventdesk: …" lines for a person, or
// (serve --log-format json) one JSON object per line for a service manager:
// {"time":"2026-11-28T03:58:29.123Z","level":"info","category":"eventdesk.session","message":"…"}.
// Qt's log messages and the command's own notes both go through it.
#pragma once

#include <QString>

namespace eventdesk::app {

enum class LogFormat { Text, Json };

// Installs the Qt message handler for the format (Text keeps Qt's own).
void setLogFormat(LogFormat format);
LogFormat logFormat();

// A note of the command's own (the banner, a warning): "eventdesk: text", or a
// JSON line with category "eventdesk" at the given level ("info", "warning", "error").
void note(const QString &text, const char *level = "info");

} // namespace eventdesk::app
