// The window: with no subcommand, eventdesk opens the DM's window on the
// default database (or --db), with the session server ready to host.
#pragma once

namespace eventdesk::app {

int runGui(int argc, char *argv[]);

} // namespace eventdesk::app
