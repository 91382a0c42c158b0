// The player page: what a browser gets from the session's port when it asks
// with a plain GET. /join (and /) is the page players open from the DM's link,
// /table the read-only table screen, /assets/* their script, style and icon.
// Everything is built into the binary (Qt resources under :/player); nothing
// is fetched from elsewhere, and the Content-Security-Policy says so.
#pragma once

#include "Transport.h"

namespace eventdesk::session {

HttpResponse playerPage(const HttpRequest &request);

// The page's files, by the path they are served at, and their size in all.
QStringList playerPagePaths();
qint64 playerPageBytes();

} // namespace eventdesk::session
